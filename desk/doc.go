// Package desk is the service desk as a typed domain: tickets and their
// readable numbers, one table of states and transitions (Transitions) that
// every operation goes through, the operations themselves (Accept, Reply,
// Transfer, Resolve, Reopen, Close …) with typed input and typed refusals,
// routing to officers who can be reached, deadlines counted in working
// time, the timers for reminders and escalation, and the return visit
// (回访) after each resolution with its rating (好差评) and the 整改 a bad
// one starts. Chat commands (Command) are a thin layer over the
// operations; pages, timers and surveys call the same operations. Every
// sentence comes from chat/texts.
//
// It declares the store, calendar and notifier it needs; bot and cmd
// provide them.
package desk
