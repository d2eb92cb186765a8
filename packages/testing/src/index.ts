/** @warren/testing: run Warren handlers on the in-memory broker and assert on what happened. */
export { TestApp } from './test-app';
export type { TestAppOptions, MessageOutcome, QueuedMessage, Provider } from './test-app';
export { RecordingTransport } from './recording-transport';
export type { PublishedMessage } from './recording-transport';
