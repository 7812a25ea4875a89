// Package bot is Huimin's runtime: the WeChat webhook (verify, decode,
// de-duplicate, dispatch to flows, reply within WeChat's 5-second budget),
// the durable outbox that sends customer-service, template and subscribe
// messages with retries, the due-queue workers, health and metrics.
//
// It depends on flows for what to say and on small store interfaces it
// declares itself; cmd/huimin wires it together.
package bot
