import { UserError } from "../../src/core/errors.ts";

/**
 * Runs `run` and returns the UserError it throws, so a test can assert on the
 * message and hint; any other outcome fails the test.
 */
export function userErrorFrom(run: () => unknown): UserError {
  try {
    run();
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error("expected a UserError");
}
