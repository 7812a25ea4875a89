// Package campaigns sends reminder campaigns (事前主动服务): a message the
// bureau configures — the yearly 高龄津贴 certification, the 低保 annual
// review, 冬季救助 notices — sent on a cron schedule to the citizens who
// opted in to it, and only to them.
//
// Opting in is explicit and recorded with its time (see Service.Subscribe;
// the conversation engine asks at the end of a matter, and the words
// 订阅提醒 and 退订 work at any time). A run is one firing of a campaign's
// schedule: its ID comes from the campaign and the scheduled time, so that
// the cron of every instance firing it schedules one run item (the
// store's Schedule keeps an ID once). The run pages through the campaign's
// subscribers with a cursor it saves after each page, so that a run
// claimed again after a crash goes on where it stopped, and schedules one
// send item per person, each in its place in line at the bureau's rate
// across instances (a counter per second in the store, as the desk spaces
// return visits). A send item checks the subscription when it is due (a
// person who sent 退订 meanwhile receives nothing), queues the message on
// the desk's notifier under an ID of the run and the person (the outbox
// sends one ID once) — a customer-service message inside WeChat's 48-hour
// window, else the campaign's template, else its subscribe notice — and
// then learns from the notifier how it went. Each person is counted once
// per run (sent, fallback, skipped, failed) with a tally in the store, so
// that an item done twice counts once; the instance whose count completes
// the run logs one line with the totals.
package campaigns
