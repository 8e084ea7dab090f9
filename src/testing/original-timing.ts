import { DEFAULT_TIMING } from '../rmcast/engine-defaults.js';
import type { EngineTiming } from '../rmcast/engine-types.js';

/**
 * The original implementation's timers (spec rmulticast.md §0.1), for
 * simulated members that behave like it where timing is concerned: none of
 * our local policies (short probing and gathering, frequent SESSIONs, quick
 * repair requests, the learned silence limit). Its other habits (no acks after deliveries, skipped
 * SESSIONs) come with EngineOptions.imitateOriginal.
 */
export const ORIGINAL_TIMING: Readonly<EngineTiming> = Object.freeze<EngineTiming>({
  ...DEFAULT_TIMING,
  probeListen: 500,
  probeInterval: 250,
  attemptJoinDelay: [100, 400],
  repairFirstRequest: [150, 250],
  repairRepeatRequest: [500, 800],
  sessionInterval: [1500, 3000],
  gatheringSettledQuiet: [0, 0],
  quickSilenceTimeout: 0,
});
