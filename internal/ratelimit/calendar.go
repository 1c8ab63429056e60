package ratelimit

import "time"

// Quota periods.
const (
	PeriodDay   = "day"
	PeriodMonth = "month"
)

// periodBounds returns the start and end of the calendar day or month that
// contains now, in loc. The bounds are local midnights, so a day across a
// daylight saving change lasts 23 or 25 hours. time.Date normalizes the day
// after the last of a month, and a midnight that a transition skips, to the
// next valid instant.
func periodBounds(now time.Time, period string, loc *time.Location) (start, end time.Time) {
	t := now.In(loc)
	y, m, d := t.Date()
	if period == PeriodMonth {
		return time.Date(y, m, 1, 0, 0, 0, 0, loc), time.Date(y, m+1, 1, 0, 0, 0, 0, loc)
	}
	return time.Date(y, m, d, 0, 0, 0, 0, loc), time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}
