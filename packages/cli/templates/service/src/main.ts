import 'reflect-metadata';
import { configFromEnv, scanModules, Warren } from '@warren/core';

// Every compiled module under src/handlers is loaded, so `warren generate consumer|publisher <Name>`
// adds a class that starts with the service without editing this file.
const { handlers, publishers } = scanModules(['handlers/**/*.js'], __dirname);

// Consumes until SIGINT / SIGTERM. AMQP_URL selects RabbitMQ; without it the embedded in-memory
// broker is used (and refused when NODE_ENV=production). See .env.example for the other settings.
Warren.run({ name: '{{serviceName}}', handlers, publishers, ...configFromEnv(process.env) }).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
