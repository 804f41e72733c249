"""Pure rules of the product: stages, roles, the statutory rule table, the
working-day calendar and rule violations. No I/O here: workflows import it."""
