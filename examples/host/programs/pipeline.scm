; pipeline: producers put the numbers 1..n on a queue, (threads) workers
; take them, square them and put the squares on a second queue, from
; which the main thread takes them all. The queues are the host's
; (make-queue: bounded; a put and a take do not conflict while the queue
; is neither empty nor full); each put and take is its own transaction,
; and a putter finding its queue full or a taker finding it empty yields
; and tries again.

(define n (* 300 (scale)))

(define (put! q x)
  (if (not (atomic (queue-put! q x))) (begin (yield) (put! q x))))

(define (take! q)
  (let ((x (atomic (queue-take! q))))
    (if x x (begin (yield) (take! q)))))

(define numbers (make-queue 128))
(define squares (make-queue 128))
(define claims (make-dict))
(dict-set! claims 'taken 0)

; Whether there is one more number for a worker to take.
(define (claim!)
  (atomic
    (let ((taken (dict-ref claims 'taken)))
      (if (< taken n) (begin (dict-set! claims 'taken (+ taken 1)) #t) #f))))

(define (producer from to)
  (if (<= from to) (begin (put! numbers from) (producer (+ from 1) to))))

(define (worker done)
  (if (claim!)
      (let ((x (take! numbers)))
        (put! squares (* x x))
        (worker (+ done 1)))
      done))

(define (spawn-all i f)
  (if (= i (threads)) '() (cons (f i) (spawn-all (+ i 1) f))))

(define producers
  (spawn-all 0 (lambda (i) (spawn producer
                                  (+ 1 (quotient (* i n) (threads)))
                                  (quotient (* (+ i 1) n) (threads))))))
(define workers (spawn-all 0 (lambda (i) (spawn worker 0))))

(define (collect k sum) (if (= k n) sum (collect (+ k 1) (+ sum (take! squares)))))
(define sum (collect 0 0))

(define (join-all ts) (if (pair? ts) (begin (join (car ts)) (join-all (cdr ts)))))
(define (join-sum ts) (if (null? ts) 0 (+ (join (car ts)) (join-sum (cdr ts)))))
(join-all producers)
(print "numbers:" n)
(print "sum of squares:" sum)
(print "taken by workers:" (join-sum workers))
