; pipeline: producers put the numbers 1..n on a queue, (threads) workers
; take them, square them and put the squares on a second queue, from
; which the main thread takes them all. Queues are dictionaries with a
; head and a tail index; put! and take! are atomic, and a taker finding
; its queue empty yields and tries again.

(define n (* 300 (scale)))

(define (make-queue)
  (let ((q (make-dict 128)))
    (dict-set! q 'head 0)
    (dict-set! q 'tail 0)
    q))

(define (put! q x)
  (atomic
    (let ((t (dict-ref q 'tail)))
      (dict-set! q t x)
      (dict-set! q 'tail (+ t 1)))))

; The item at the queue's head, or #f if it is empty.
(define (try-take! q)
  (atomic
    (let ((h (dict-ref q 'head)))
      (if (< h (dict-ref q 'tail))
          (begin (dict-set! q 'head (+ h 1)) (dict-ref q h))
          #f))))

(define (take! q)
  (let ((x (try-take! q)))
    (if x x (begin (yield) (take! q)))))

(define numbers (make-queue))
(define squares (make-queue))
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
