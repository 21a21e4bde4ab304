// Overload protection settings (`limits:` and `upstreams[].limits:`). Every limit has a default, so a
// config without them is protected too; docs/configuration.md explains each and the answer a client
// gets when it is reached (503 + Retry-After, audit outcome `overloaded`).
import type { Reader } from './reader.ts';

export interface GatewayLimits {
  /** Requests Deputy works on at once (GET streams are counted separately). */
  maxInFlight: number;
  /** Requests that may wait for a slot; beyond this, 503 at once. */
  maxQueued: number;
  /** How long a request may wait for a slot before it gets 503. */
  queueTimeoutMs: number;
  /** Concurrent GET (SSE) streams one principal may hold, across all endpoints. */
  maxStreamsPerPrincipal: number;
  /** A session unused this long is forgotten (and its upstream sessions closed). */
  sessionIdleMs: number;
  /** Sessions one principal may hold; a new one beyond this ends the principal's least recently used. */
  maxSessionsPerPrincipal: number;
  /** Sessions in total; beyond this, initialize gets 503 until sessions end or expire. */
  maxSessions: number;
}

export interface UpstreamLimits {
  /** Requests to this upstream at once (also its connection pool size). */
  maxInFlight: number;
  maxQueued: number;
  /** GET streams to this upstream at once: their own connections, so streams never starve requests. */
  maxStreams: number;
  /** Deadline for a whole request/response exchange (a streamed answer included). */
  maxCallMs: number;
  /** Largest answer relayed for one request; larger answers are cut. */
  maxResponseBytes: number;
}

export const DEFAULT_LIMITS: GatewayLimits = {
  maxInFlight: 1024, maxQueued: 512, queueTimeoutMs: 2000, maxStreamsPerPrincipal: 16,
  sessionIdleMs: 30 * 60_000, maxSessionsPerPrincipal: 64, maxSessions: 100_000,
};

export const DEFAULT_UPSTREAM_LIMITS: UpstreamLimits = {
  maxInFlight: 256, maxQueued: 256, maxStreams: 128, maxCallMs: 10 * 60_000, maxResponseBytes: 64 * 1_048_576,
};

export function parseGatewayLimits(r: Reader): GatewayLimits {
  const d = DEFAULT_LIMITS;
  const limits: GatewayLimits = {
    maxInFlight: r.number('max_in_flight', d.maxInFlight, { min: 1, max: 1_000_000, integer: true }),
    maxQueued: r.number('max_queued', d.maxQueued, { min: 0, max: 1_000_000, integer: true }),
    queueTimeoutMs: r.number('queue_timeout_ms', d.queueTimeoutMs, { min: 0, max: 60_000, integer: true }),
    maxStreamsPerPrincipal: r.number('max_streams_per_principal', d.maxStreamsPerPrincipal, { min: 1, max: 100_000, integer: true }),
    sessionIdleMs: r.number('session_idle_ms', d.sessionIdleMs, { min: 1000, max: 24 * 3_600_000, integer: true }),
    maxSessionsPerPrincipal: r.number('max_sessions_per_principal', d.maxSessionsPerPrincipal, { min: 1, max: 1_000_000, integer: true }),
    maxSessions: r.number('max_sessions', d.maxSessions, { min: 1, max: 10_000_000, integer: true }),
  };
  r.rejectUnknownKeys();
  return limits;
}

export function parseUpstreamLimits(r: Reader): UpstreamLimits {
  const d = DEFAULT_UPSTREAM_LIMITS;
  const limits: UpstreamLimits = {
    maxInFlight: r.number('max_in_flight', d.maxInFlight, { min: 1, max: 100_000, integer: true }),
    maxQueued: r.number('max_queued', d.maxQueued, { min: 0, max: 1_000_000, integer: true }),
    maxStreams: r.number('max_streams', d.maxStreams, { min: 0, max: 100_000, integer: true }),
    maxCallMs: r.number('max_call_ms', d.maxCallMs, { min: 100, max: 24 * 3_600_000, integer: true }),
    maxResponseBytes: r.number('max_response_bytes', d.maxResponseBytes, { min: 1024, max: 1024 * 1_048_576, integer: true }),
  };
  r.rejectUnknownKeys();
  return limits;
}
