; bank: tellers move money between accounts in atomic transfers while an
; auditor adds up every balance in atomic audits; no audit may see money
; in flight, and the total at the end is the total at the start.

(define accounts 16)
(define transfers (* 800 (scale)))
(define bank (make-dict))
(define state (make-dict))

(define (open-accounts i)
  (if (< i accounts)
      (begin (dict-set! bank i 1000) (open-accounts (+ i 1)))))
(open-accounts 0)
(dict-set! state 'tellers-done 0)

(define (total)
  (define (loop i acc) (if (= i accounts) acc (loop (+ i 1) (+ acc (dict-ref bank i)))))
  (loop 0 0))

; A teller's own pseudo-random numbers: a linear congruential generator.
(define (next seed) (remainder (+ (* seed 1103515245) 12345) 2147483648))

(define (transfer! from to amount)
  (atomic
    (dict-set! bank from (- (dict-ref bank from) amount))
    (dict-set! bank to (+ (dict-ref bank to) amount))))

(define (teller id count)
  (define (loop k seed)
    (if (> k 0)
        (let ((a (next seed)))
          (let ((b (next a)))
            (let ((c (next b)))
              (transfer! (remainder a accounts) (remainder b accounts) (remainder c 100))
              (loop (- k 1) c))))))
  (loop count (+ id 1))
  (atomic (dict-set! state 'tellers-done (+ 1 (dict-ref state 'tellers-done)))))

; Audits until every teller is done, then once more; returns the number
; of audits that saw a wrong total.
(define (auditor tellers expected)
  (define (loop wrong)
    (let ((seen (atomic (list (total) (dict-ref state 'tellers-done)))))
      (let ((wrong (if (= (car seen) expected) wrong (+ wrong 1))))
        (if (< (car (cdr seen)) tellers)
            (begin (yield) (loop wrong))
            wrong))))
  (loop 0))

(define (spawn-tellers i)
  (if (= i (threads))
      '()
      (cons (spawn teller i
                   (- (quotient (* (+ i 1) transfers) (threads))
                      (quotient (* i transfers) (threads))))
            (spawn-tellers (+ i 1)))))

(define (join-all ts) (if (null? ts) '() (cons (join (car ts)) (join-all (cdr ts)))))

(define before (total))
(print "accounts:" accounts "transfers:" transfers)
(print "total before:" before)
(define audit (spawn auditor (threads) before))
(join-all (spawn-tellers 0))
(define wrong (join audit))
(print "total after:" (total))
(print "audits that saw money in flight:" wrong)
