import * as z from 'zod';
import { ErrorCodes } from './errors.js';

/** Sign of life, both ways, every heartbeatMs. Missing 3 in a row trips the dead-man timer. */
export const Heartbeat = z.object({ t: z.literal('hb') });
export type Heartbeat = z.infer<typeof Heartbeat>;

/** Clean goodbye: the daemon revokes this link's leases at once. */
export const Bye = z.object({ t: z.literal('bye'), reason: z.string().max(200) });
export type Bye = z.infer<typeof Bye>;

export const ErrorFrame = z.object({
  t: z.literal('error'),
  code: z.enum(ErrorCodes),
  message: z.string().max(500),
  /** Id of the request or stream the error is about, when there is one. */
  ref: z.string().max(64).optional(),
});
export type ErrorFrame = z.infer<typeof ErrorFrame>;
