/**
 * Seeded campaigns, n = 4 (f = 1), second half of the strategies. Each strategy runs a fixed
 * range of seeds in the quick profile; a failure lists every violation with the command
 * that reproduces it.
 */
import { describeCampaign } from './campaign.js';
import type { StrategyChoice } from './run.js';

const STRATEGIES: readonly StrategyChoice[] = ['bad-new-view', 'stale-future', 'junk-flood', 'invalid-block', 'selective', 'chaos', 'mixed'];
const SEEDS = 60;

describeCampaign('campaign n=4 (b)', STRATEGIES, 4, SEEDS);
