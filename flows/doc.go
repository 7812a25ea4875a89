// Package flows is the conversation side of Huimin: it tells officers from
// citizens, keeps each person's conversation under a lock, runs the
// citizens' flows (flows/intake) and hands their outcomes and the officers'
// commands to the desk. It speaks the chat vocabulary and knows nothing of
// WeChat's wire format; bot translates for it.
package flows
