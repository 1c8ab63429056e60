package listener

// verdict is the outcome for one request, queued until its handler calls
// Check.
type verdict struct {
	key         uint64 // requestKey of the method and target
	reason      string // "" when the request is accepted
	optionsStar bool   // "OPTIONS *", to which http.Server may respond itself
}

// verdictQueue is a FIFO ring of verdicts. It holds four without allocating
// and grows up to maxPendingVerdicts for pipelined requests.
type verdictQueue struct {
	inline [4]verdict
	grown  []verdict // used instead of inline once more than four wait
	head   int
	n      int
}

func (q *verdictQueue) slots() []verdict {
	if q.grown != nil {
		return q.grown
	}
	return q.inline[:]
}

// push appends v. It returns false when maxPendingVerdicts are queued.
func (q *verdictQueue) push(v verdict) bool {
	s := q.slots()
	if q.n == len(s) {
		if len(s) >= maxPendingVerdicts {
			return false
		}
		grown := make([]verdict, 2*len(s))
		for i := range q.n {
			grown[i] = s[(q.head+i)%len(s)]
		}
		q.grown, q.head = grown, 0
		s = grown
	}
	s[(q.head+q.n)%len(s)] = v
	q.n++
	return true
}

// pop removes and returns the oldest verdict. An emptied queue drops its
// grown storage.
func (q *verdictQueue) pop() (verdict, bool) {
	if q.n == 0 {
		return verdict{}, false
	}
	s := q.slots()
	v := s[q.head]
	s[q.head] = verdict{}
	q.head = (q.head + 1) % len(s)
	q.n--
	if q.n == 0 {
		q.grown, q.head = nil, 0
	}
	return v, true
}

func (q *verdictQueue) clear() {
	*q = verdictQueue{}
}
