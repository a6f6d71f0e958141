/** The JSON-RPC endpoint: the server, its method table, the node interface it serves, and a client. */
export * from './api.js';
export * from './client.js';
export * from './dispatch.js';
export * from './errors.js';
export * from './methods.js';
export * from './params.js';
export * from './server.js';
