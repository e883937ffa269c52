"""The sprint ledger, shared by the sprint use cases: per (sprint, issue) how each issue's
points, acceptance criteria and membership changed (`sprint_scope_changes`), and per sprint the
sums Jira's sprint report shows (`sprint_commitments`). It decides no rule; the use cases that
read it do."""
