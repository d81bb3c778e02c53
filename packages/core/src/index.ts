export * from './errors.js';
export { ChunkAssembler, responseAsStream, responseReply, responseToChunks, streamReply } from './reply.js';
export type * from './types.js';
export * from './wire.js';
