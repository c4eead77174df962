; shared-dict: many threads count words into one dictionary, each count
; an atomic read-modify-write; the counts add up whatever the interleaving.

(define words 40)
(define items (* 1600 (scale)))
(define counts (make-dict))

(define (word i) (string-append "w" (number->string (remainder (* i 7) words))))

(define (count! w) (atomic (dict-set! counts w (+ 1 (dict-ref counts w 0)))))

(define (counter from to)
  (if (< from to) (begin (count! (word from)) (counter (+ from 1) to))))

(define (spawn-all i)
  (if (= i (threads))
      '()
      (cons (spawn counter (quotient (* i items) (threads)) (quotient (* (+ i 1) items) (threads)))
            (spawn-all (+ i 1)))))

(define (join-all ts) (if (null? ts) '() (begin (join (car ts)) (join-all (cdr ts)))))
(join-all (spawn-all 0))

(define (report i sum)
  (if (< i words)
      (let ((c (dict-ref counts (string-append "w" (number->string i)) 0)))
        (print (string-append "w" (number->string i)) c)
        (report (+ i 1) (+ sum c)))
      (print "total:" sum "distinct:" (length (dict-keys counts)))))
(report 0 0)
