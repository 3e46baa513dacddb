import { issueOverBudget } from "./budget.ts";
import { isSettled, openAttempt } from "./queries.ts";
import type { Rule } from "./rules.ts";

/**
 * An issue whose running agent spent its budget (coordinator.budget.issue)
 * fails now, not once the agent is done: the runtime stops an agent whose
 * issue failed while it ran (as a skip does), and its report, which ends the
 * attempt, still counts what it spent.
 */
export const stopOverBudget: Rule = {
  name: "stopOverBudget",
  reason: "the issue's running agent spent coordinator.budget.issue: the issue fails and its agent is stopped",
  when: (issue, context) => !isSettled(issue) && openAttempt(issue) !== null && issueOverBudget(context.state, issue) !== null,
  then: (issue, { state }) => [{ type: "Fail", issue: issue.number, reason: `over budget: ${issueOverBudget(state, issue) ?? ""}; its agent was stopped` }],
};
