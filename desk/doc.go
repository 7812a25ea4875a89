// Package desk is the service desk's rulebook: tickets and their readable
// numbers, routing to departments and officers, the officers' chat
// commands, deadlines counted in working time, reminders and escalation.
// It declares the store, calendar and notifier it needs; bot and cmd
// provide them.
package desk
