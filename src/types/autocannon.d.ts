// autocannon ships no type declarations; the bench's fallback load generator uses it.
declare module 'autocannon';
