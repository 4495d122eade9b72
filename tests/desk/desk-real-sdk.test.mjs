// The desk's scenarios (scenarios.mjs) through the real @twilio/conversations SDK (UMD build, unmodified) against
// the emulator's twilsock endpoint (/v3/wsconnect): production client code end to end.
import { defineScenarios } from './scenarios.mjs';

defineScenarios('real-sdk');
