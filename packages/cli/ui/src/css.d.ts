// esbuild bundles imported stylesheets into app.css; they have no exports.
declare module '*.css';
