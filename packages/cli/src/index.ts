export { formatReport } from './report.js';
export {
  type Check,
  type CheckStatus,
  type Credential,
  type VerifyOptions,
  type VerifyReport,
  verifyStore,
} from './verify.js';
