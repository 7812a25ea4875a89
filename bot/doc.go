// Package bot is Huimin's runtime at the WeChat edge: the webhook (verify,
// decode, de-duplicate, dispatch to flows, reply within WeChat's 5-second
// budget), the WeCom callback, the durable outbox that sends
// customer-service, template and subscribe messages with retries, the one
// runner for timed work (outbox, inbox, desk timers), health and metrics.
//
// It depends on flows for what to say and on small store interfaces it
// declares itself; cmd/huimin wires it together. The WeChat simulator the
// tests and the demo talk to is a package of its own, sim.
package bot
