import { ApiHeaderOptions } from '@nestjs/swagger';

/** The Idempotency-Key header of the stock and staff additions, as the API document describes it. */
export const ADDITION_KEY_HEADER: ApiHeaderOptions = {
  name: 'Idempotency-Key',
  required: false,
  description:
    'A retry with the same key adds nothing and answers what the first request answered (also while the first still runs: ' +
    'the retry waits for it); the same key with another body is 422 (1-100 of A-Z a-z 0-9 _ . : -)',
};
