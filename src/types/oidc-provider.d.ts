// oidc-provider ships no type declarations; Deputy uses it only for the demo and the test authorization server.
declare module 'oidc-provider';
