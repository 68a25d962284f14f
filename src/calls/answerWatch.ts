import type Srf from 'drachtio-srf';
import { dialogCallId, dialogType, holdRequests, observeDialogs, releaseRequests, type Dialog } from '../types/drachtio.js';
import type { CallSession } from './session.js';

/**
 * Sees the caller's leg of a call become a dialog at the instant drachtio-srf registers it (the
 * 200 has just gone out), before the bridge code gets it back. From then on the call is answered
 * (billing counts from here), a BYE is held until the bridge listens to the dialog, and a caller
 * leg that ends before the bridge took it over still ends the call. Without this, a BYE sent right
 * behind the ACK could end the dialog unseen and leave a phantom call.
 */
export class AnswerWatch {
  private readonly waiting = new Map<string, CallSession>();
  private readonly callerLegs = new WeakMap<CallSession, Dialog>();

  constructor(srf: Srf) {
    observeDialogs(srf, (dialog) => {
      if (dialogType(dialog) !== 'uas') return;
      const callId = dialogCallId(dialog);
      const session = this.waiting.get(callId);
      if (!session) return;
      this.waiting.delete(callId);
      this.callerLegs.set(session, dialog);
      holdRequests(dialog);
      session.answered();
      // once the bridge listens to the legs (session.legs), its own handlers end the call
      dialog.on('destroy', () => {
        if (!session.legs) void session.finish('caller_hangup');
      });
      // whatever ends the call first, the held requests must get their answer
      session.onEnd(() => releaseRequests(dialog));
    });
  }

  /** Watches for the caller's leg of this session (its INVITE's Call-ID). */
  expect(session: CallSession): void {
    this.waiting.set(session.info.callId, session);
    session.onEnd(() => {
      if (this.waiting.get(session.info.callId) === session) this.waiting.delete(session.info.callId);
    });
  }

  /** The caller's leg, once answered. */
  callerLeg(session: CallSession): Dialog | undefined {
    return this.callerLegs.get(session);
  }

  get watching(): number {
    return this.waiting.size;
  }
}
