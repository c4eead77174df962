; deterministic: closures, strings, lists and dictionaries, the work
; spread over (threads) threads whose results the main thread prints in
; order; a thread that fails (car of the empty list) reports its error
; and ends, and join gives #f for it. Its output is the same in every
; mode and at every thread count.

(define (make-counter)
  (let ((n 0))
    (lambda () (set! n (+ n 1)) n)))

(define (repeat f k) (if (> k 1) (begin (f) (repeat f (- k 1))) (f)))

(define (describe i)
  (let ((counter (make-counter))
        (d (make-dict)))
    (dict-set! d 'square (* i i))
    (dict-set! d "name" (string-append "item-" (number->string i)))
    (list (dict-ref d "name") (dict-ref d 'square) (repeat counter (+ i 1)))))

(define (chunk i)
  (define (loop j acc)
    (if (< j i) acc (loop (- j (threads)) (cons (describe j) acc))))
  (loop (+ i (* (threads) (quotient (- 11 i) (threads)))) '()))

; Spawned first, so that it is thread 1 at every thread count.
(define failing (spawn (lambda () (+ 1 (car '())))))

(define (spawn-all i) (if (= i (threads)) '() (cons (spawn chunk i) (spawn-all (+ i 1)))))
(define (join-all ts) (if (null? ts) '() (cons (join (car ts)) (join-all (cdr ts)))))
(define results (join-all (spawn-all 0)))

(define (nth xs k) (if (= k 0) (car xs) (nth (cdr xs) (- k 1))))
; Item i is in chunk (i mod threads), at (i div threads).
(define (show i)
  (if (< i 12)
      (begin
        (print (nth (nth results (remainder i (threads))) (quotient i (threads))))
        (show (+ i 1)))))
(show 0)

(print "a failed thread joins as" (join failing))
(print (equal? (list 1 "a" (list 2)) (list 1 "a" (list 2))) (and) (or) (- 5))
