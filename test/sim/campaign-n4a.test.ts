/**
 * Seeded campaigns, n = 4 (f = 1), first half of the strategies. Each strategy runs a fixed
 * range of seeds in the quick profile; a failure lists every violation with the command
 * that reproduces it.
 */
import { describeCampaign } from './campaign.js';
import type { StrategyChoice } from './run.js';

const STRATEGIES: readonly StrategyChoice[] = ['none', 'silent', 'equivocate', 'twins', 'bad-signatures', 'unknown-digests', 'forged-certs'];
const SEEDS = 60;

describeCampaign('campaign n=4 (a)', STRATEGIES, 4, SEEDS);
