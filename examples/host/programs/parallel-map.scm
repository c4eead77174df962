; parallel-map: one pure function over a range of integers, the range
; split among (threads) threads, each building and summing its own slice.
; Nothing is shared but the code: the threads never conflict.

(define (collatz-steps n steps)
  (if (= n 1)
      steps
      (collatz-steps (if (= (remainder n 2) 0) (quotient n 2) (+ (* 3 n) 1))
                     (+ steps 1))))

(define (range from to)
  (if (>= from to) '() (cons from (range (+ from 1) to))))

(define (map f xs)
  (if (null? xs) '() (cons (f (car xs)) (map f (cdr xs)))))

(define (sum xs)
  (define (loop xs acc) (if (null? xs) acc (loop (cdr xs) (+ acc (car xs)))))
  (loop xs 0))

(define n (* 400 (scale)))

(define (work i)
  (let ((from (+ 1 (quotient (* i n) (threads))))
        (to (+ 1 (quotient (* (+ i 1) n) (threads)))))
    (sum (map (lambda (x) (collatz-steps x 0)) (range from to)))))

(define (spawn-all i)
  (if (= i (threads)) '() (cons (spawn work i) (spawn-all (+ i 1)))))

(define (join-all threads)
  (if (null? threads) '() (cons (join (car threads)) (join-all (cdr threads)))))

(print "numbers:" n)
(print "collatz steps:" (sum (join-all (spawn-all 0))))
