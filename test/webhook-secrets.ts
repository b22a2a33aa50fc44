// Webhook secrets the test Worker signs with (vitest.config.ts) and the test receiver verifies with
// (test/webhook-server.ts). The inventory setting holds two, newest first, as during a rotation.
export const INVENTORY_SECRET_NEW = "whsec_qHrfrrRRUafJH3ZO8AX920u3tnGzgOpx6/NWYZ8lhik=";
export const INVENTORY_SECRET_OLD = "whsec_1OSXn1V2WMbpcGeufAA50kTGO07CQ673xTMkCnRt0h0=";
export const PUSH_SECRET = "whsec_ePR58w/6P2nDfn3m6bDpxbgrkWD523NOQUYWN9lNq0k=";
export const REPORTS_SECRET = "whsec_cmVwb3J0cy13ZWJob29rLXRlc3Qtc2VjcmV0LTAwMDA=";
export const ALERTS_SECRET = "whsec_YWxlcnRzLXdlYmhvb2stdGVzdC1zZWNyZXQtMDAwMDA=";
/** A secret from before Standard Webhooks (not whsec_): used as raw bytes, and it keys the deprecated headers. */
export const LEGACY_SECRET = "test-webhook-secret";
