// The desk's scenarios (scenarios.mjs) through the emulator's stand-in Conversations client (/v1/realtime).
import { defineScenarios } from './scenarios.mjs';

defineScenarios('stand-in');
