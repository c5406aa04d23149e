import { DaemonControlSchemas, type DaemonControlResponse } from '../../protocol/daemon-control-schemas.js';
import type { DaemonControlCall } from '../../protocol/daemon-control.js';
import type { AnswerCheck } from './control-client.js';

/** The full schema check of a call's answer, for every command but `tether token` (which checks its one answer by hand). */
export function answerOf<C extends DaemonControlCall>(name: C): AnswerCheck<DaemonControlResponse<C>> {
  return (json) => {
    const parsed = DaemonControlSchemas[name].response.safeParse(json);
    return parsed.success ? (parsed.data as DaemonControlResponse<C>) : undefined;
  };
}
