export { formatReport } from './report.js';
export {
  type Check,
  type CheckStatus,
  type Credential,
  credentialHeaders,
  type VerifyOptions,
  type VerifyReport,
  verifyStore,
} from './verify.js';
