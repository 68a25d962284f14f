import type { B2BUAOptions } from '../types/drachtio.js';

/**
 * B2BUA options that offer exactly this SDP, as application/sdp, on the new leg. Without them
 * drachtio-srf sends the incoming request's whole body (a multipart body with ISUP included) and
 * drachtio-server refuses a body without Content-Type that does not start with "v=0".
 * undefined (late offer): the options as they are; the incoming body is then empty.
 */
export function withOffer(options: B2BUAOptions, sdp: string | undefined): B2BUAOptions {
  if (sdp === undefined) return options;
  return { ...options, localSdpB: sdp, headers: { ...options.headers, 'Content-Type': 'application/sdp' } };
}
