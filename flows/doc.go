// Package flows is the conversation side of Huimin: the events people cause,
// the replies they get, and the flows that turn one into the other. It knows
// nothing of WeChat's wire format; bot translates for it.
package flows
