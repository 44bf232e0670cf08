package postgres

// ConstraintMessage exposes constraintMessage to the external tests.
var ConstraintMessage = constraintMessage
