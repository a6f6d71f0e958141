/**
 * Seeded campaigns, n = 7 (f = 2): every strategy with two Byzantine validators (for
 * 'mixed', two different ones), a fixed range of seeds each in the quick profile.
 */
import { describeCampaign } from './campaign.js';
import { STRATEGY_CHOICES } from './run.js';

const STRATEGIES = STRATEGY_CHOICES.filter((s) => s !== 'random');
const SEEDS = 20;

describeCampaign('campaign n=7', STRATEGIES, 7, SEEDS);
