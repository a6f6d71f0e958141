export * from './types.js';
export { Replica } from './replica.js';
export { planNewView, type NewViewPlan } from './view-change.js';
export {
  checkCheckpointCertificate,
  checkNewView,
  checkPreparedCertificate,
  checkQuorumCertificate,
  checkViewChange,
  type ValidatorSet,
} from './certificates.js';
