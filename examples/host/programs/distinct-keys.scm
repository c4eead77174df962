; distinct-keys: the threads add 160 keys to one dictionary, each thread
; its own share, one new key a transaction that then reads it back a few
; times. On a conflict-free dictionary such transactions conflict only
; when two keys' hashes share a bucket: host_programs.rs checks that
; these keys' do not, then that 8 threads run with no abort.

(define keys 160)
(define table (make-dict 16384))

(define (read-back k n) (if (> n 0) (begin (dict-ref table k) (read-back k (- n 1)))))

(define (add-keys from to)
  (if (< from to)
      (begin (atomic (dict-set! table from (* 2 from)) (read-back from 8))
             (add-keys (+ from 1) to))))

(define (spawn-all i)
  (if (= i (threads))
      '()
      (cons (spawn add-keys (quotient (* i keys) (threads)) (quotient (* (+ i 1) keys) (threads)))
            (spawn-all (+ i 1)))))

(define (join-all ts) (if (null? ts) '() (begin (join (car ts)) (join-all (cdr ts)))))
(join-all (spawn-all 0))

(define (all-there k)
  (if (= k keys) #t (and (= (dict-ref table k) (* 2 k)) (all-there (+ k 1)))))
(print "keys:" (length (dict-keys table)) "all there:" (all-there 0))
