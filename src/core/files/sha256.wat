;; SHA-256's compression function (FIPS 180-4, section 6.2.2) over whole 64-byte blocks.
;; Memory: the eight state words at 0, the message schedule W[64] at 64, the round
;; constants K[64] at 320 (written by the caller), the input from 1024 on (64 KiB at most
;; per call). The rounds go eight per loop turn with the working variables renamed instead of
;; moved (a quarter faster in V8 than one round per turn). Ch and Maj use the forms with one
;; operation less: Ch = g ^ (e & (f ^ g)), Maj = (a & b) | (c & (a | b)).
;; Build: `node scripts/sha256-wasm.mjs` writes it, compiled, into sha256-wasm.ts.
(module
  (memory (export "memory") 2)
  (func (export "blocks") (param $p i32) (param $n i32)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32)
    (local $e i32) (local $f i32) (local $g i32) (local $h i32)
    (local $j i32) (local $x i32) (local $t1 i32) (local $t2 i32) (local $end i32)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 6))))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        ;; W[0..15]: the block's words, big-endian
        (local.set $j (i32.const 0))
        (loop $load
          (local.set $x (i32.load (i32.add (local.get $p) (local.get $j))))
          (i32.store offset=64 (local.get $j)
            (i32.or
              (i32.and (i32.rotl (local.get $x) (i32.const 8)) (i32.const 0x00ff00ff))
              (i32.and (i32.rotr (local.get $x) (i32.const 8)) (i32.const 0xff00ff00))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br_if $load (i32.lt_u (local.get $j) (i32.const 64))))
        ;; W[16..63]; $j is 4i, W[i] is at 64 + 4i
        (loop $expand
          (local.set $x (i32.load offset=4 (local.get $j)))
          (local.set $t1 (i32.load offset=56 (local.get $j)))
          (i32.store offset=64 (local.get $j)
            (i32.add
              (i32.add (i32.load offset=0 (local.get $j)) (i32.load offset=36 (local.get $j)))
              (i32.add
                (i32.xor (i32.xor (i32.rotr (local.get $x) (i32.const 7)) (i32.rotr (local.get $x) (i32.const 18)))
                         (i32.shr_u (local.get $x) (i32.const 3)))
                (i32.xor (i32.xor (i32.rotr (local.get $t1) (i32.const 17)) (i32.rotr (local.get $t1) (i32.const 19)))
                         (i32.shr_u (local.get $t1) (i32.const 10))))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br_if $expand (i32.lt_u (local.get $j) (i32.const 256))))
        (local.set $a (i32.load offset=0 (i32.const 0)))
        (local.set $b (i32.load offset=4 (i32.const 0)))
        (local.set $c (i32.load offset=8 (i32.const 0)))
        (local.set $d (i32.load offset=12 (i32.const 0)))
        (local.set $e (i32.load offset=16 (i32.const 0)))
        (local.set $f (i32.load offset=20 (i32.const 0)))
        (local.set $g (i32.load offset=24 (i32.const 0)))
        (local.set $h (i32.load offset=28 (i32.const 0)))
        (local.set $j (i32.const 0))
        (loop $round
          (local.set $h
            (i32.add
              (i32.add (local.get $h)
                (i32.xor (i32.xor (i32.rotr (local.get $e) (i32.const 6)) (i32.rotr (local.get $e) (i32.const 11)))
                         (i32.rotr (local.get $e) (i32.const 25))))
              (i32.add
                (i32.xor (local.get $g) (i32.and (local.get $e) (i32.xor (local.get $f) (local.get $g))))
                (i32.add (i32.load offset=320 (local.get $j)) (i32.load offset=64 (local.get $j))))))
          (local.set $d (i32.add (local.get $d) (local.get $h)))
          (local.set $h
            (i32.add (local.get $h)
              (i32.add
                (i32.xor (i32.xor (i32.rotr (local.get $a) (i32.const 2)) (i32.rotr (local.get $a) (i32.const 13)))
                         (i32.rotr (local.get $a) (i32.const 22)))
                (i32.or (i32.and (local.get $a) (local.get $b)) (i32.and (local.get $c) (i32.or (local.get $a) (local.get $b)))))))
          (local.set $g
            (i32.add
              (i32.add (local.get $g)
                (i32.xor (i32.xor (i32.rotr (local.get $d) (i32.const 6)) (i32.rotr (local.get $d) (i32.const 11)))
                         (i32.rotr (local.get $d) (i32.const 25))))
              (i32.add
                (i32.xor (local.get $f) (i32.and (local.get $d) (i32.xor (local.get $e) (local.get $f))))
                (i32.add (i32.load offset=324 (local.get $j)) (i32.load offset=68 (local.get $j))))))
          (local.set $c (i32.add (local.get $c) (local.get $g)))
          (local.set $g
            (i32.add (local.get $g)
              (i32.add
                (i32.xor (i32.xor (i32.rotr (local.get $h) (i32.const 2)) (i32.rotr (local.get $h) (i32.const 13)))
                         (i32.rotr (local.get $h) (i32.const 22)))
                (i32.or (i32.and (local.get $h) (local.get $a)) (i32.and (local.get $b) (i32.or (local.get $h) (local.get $a)))))))
          (local.set $f
            (i32.add
              (i32.add (local.get $f)
                (i32.xor (i32.xor (i32.rotr (local.get $c) (i32.const 6)) (i32.rotr (local.get $c) (i32.const 11)))
                         (i32.rotr (local.get $c) (i32.const 25))))
              (i32.add
                (i32.xor (local.get $e) (i32.and (local.get $c) (i32.xor (local.get $d) (local.get $e))))
                (i32.add (i32.load offset=328 (local.get $j)) (i32.load offset=72 (local.get $j))))))
          (local.set $b (i32.add (local.get $b) (local.get $f)))
          (local.set $f
            (i32.add (local.get $f)
              (i32.add
                (i32.xor (i32.xor (i32.rotr (local.get $g) (i32.const 2)) (i32.rotr (local.get $g) (i32.const 13)))
                         (i32.rotr (local.get $g) (i32.const 22)))
                (i32.or (i32.and (local.get $g) (local.get $h)) (i32.and (local.get $a) (i32.or (local.get $g) (local.get $h)))))))
          (local.set $e
            (i32.add
              (i32.add (local.get $e)
                (i32.xor (i32.xor (i32.rotr (local.get $b) (i32.const 6)) (i32.rotr (local.get $b) (i32.const 11)))
                         (i32.rotr (local.get $b) (i32.const 25))))
              (i32.add
                (i32.xor (local.get $d) (i32.and (local.get $b) (i32.xor (local.get $c) (local.get $d))))
                (i32.add (i32.load offset=332 (local.get $j)) (i32.load offset=76 (local.get $j))))))
          (local.set $a (i32.add (local.get $a) (local.get $e)))
          (local.set $e
            (i32.add (local.get $e)
              (i32.add
                (i32.xor (i32.xor (i32.rotr (local.get $f) (i32.const 2)) (i32.rotr (local.get $f) (i32.const 13)))
                         (i32.rotr (local.get $f) (i32.const 22)))
                (i32.or (i32.and (local.get $f) (local.get $g)) (i32.and (local.get $h) (i32.or (local.get $f) (local.get $g)))))))
          (local.set $d
            (i32.add
              (i32.add (local.get $d)
                (i32.xor (i32.xor (i32.rotr (local.get $a) (i32.const 6)) (i32.rotr (local.get $a) (i32.const 11)))
                         (i32.rotr (local.get $a) (i32.const 25))))
              (i32.add
                (i32.xor (local.get $c) (i32.and (local.get $a) (i32.xor (local.get $b) (local.get $c))))
                (i32.add (i32.load offset=336 (local.get $j)) (i32.load offset=80 (local.get $j))))))
          (local.set $h (i32.add (local.get $h) (local.get $d)))
          (local.set $d
            (i32.add (local.get $d)
              (i32.add
                (i32.xor (i32.xor (i32.rotr (local.get $e) (i32.const 2)) (i32.rotr (local.get $e) (i32.const 13)))
                         (i32.rotr (local.get $e) (i32.const 22)))
                (i32.or (i32.and (local.get $e) (local.get $f)) (i32.and (local.get $g) (i32.or (local.get $e) (local.get $f)))))))
          (local.set $c
            (i32.add
              (i32.add (local.get $c)
                (i32.xor (i32.xor (i32.rotr (local.get $h) (i32.const 6)) (i32.rotr (local.get $h) (i32.const 11)))
                         (i32.rotr (local.get $h) (i32.const 25))))
              (i32.add
                (i32.xor (local.get $b) (i32.and (local.get $h) (i32.xor (local.get $a) (local.get $b))))
                (i32.add (i32.load offset=340 (local.get $j)) (i32.load offset=84 (local.get $j))))))
          (local.set $g (i32.add (local.get $g) (local.get $c)))
          (local.set $c
            (i32.add (local.get $c)
              (i32.add
                (i32.xor (i32.xor (i32.rotr (local.get $d) (i32.const 2)) (i32.rotr (local.get $d) (i32.const 13)))
                         (i32.rotr (local.get $d) (i32.const 22)))
                (i32.or (i32.and (local.get $d) (local.get $e)) (i32.and (local.get $f) (i32.or (local.get $d) (local.get $e)))))))
          (local.set $b
            (i32.add
              (i32.add (local.get $b)
                (i32.xor (i32.xor (i32.rotr (local.get $g) (i32.const 6)) (i32.rotr (local.get $g) (i32.const 11)))
                         (i32.rotr (local.get $g) (i32.const 25))))
              (i32.add
                (i32.xor (local.get $a) (i32.and (local.get $g) (i32.xor (local.get $h) (local.get $a))))
                (i32.add (i32.load offset=344 (local.get $j)) (i32.load offset=88 (local.get $j))))))
          (local.set $f (i32.add (local.get $f) (local.get $b)))
          (local.set $b
            (i32.add (local.get $b)
              (i32.add
                (i32.xor (i32.xor (i32.rotr (local.get $c) (i32.const 2)) (i32.rotr (local.get $c) (i32.const 13)))
                         (i32.rotr (local.get $c) (i32.const 22)))
                (i32.or (i32.and (local.get $c) (local.get $d)) (i32.and (local.get $e) (i32.or (local.get $c) (local.get $d)))))))
          (local.set $a
            (i32.add
              (i32.add (local.get $a)
                (i32.xor (i32.xor (i32.rotr (local.get $f) (i32.const 6)) (i32.rotr (local.get $f) (i32.const 11)))
                         (i32.rotr (local.get $f) (i32.const 25))))
              (i32.add
                (i32.xor (local.get $h) (i32.and (local.get $f) (i32.xor (local.get $g) (local.get $h))))
                (i32.add (i32.load offset=348 (local.get $j)) (i32.load offset=92 (local.get $j))))))
          (local.set $e (i32.add (local.get $e) (local.get $a)))
          (local.set $a
            (i32.add (local.get $a)
              (i32.add
                (i32.xor (i32.xor (i32.rotr (local.get $b) (i32.const 2)) (i32.rotr (local.get $b) (i32.const 13)))
                         (i32.rotr (local.get $b) (i32.const 22)))
                (i32.or (i32.and (local.get $b) (local.get $c)) (i32.and (local.get $d) (i32.or (local.get $b) (local.get $c)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 32)))
          (br_if $round (i32.lt_u (local.get $j) (i32.const 256))))
        (i32.store offset=0 (i32.const 0) (i32.add (i32.load offset=0 (i32.const 0)) (local.get $a)))
        (i32.store offset=4 (i32.const 0) (i32.add (i32.load offset=4 (i32.const 0)) (local.get $b)))
        (i32.store offset=8 (i32.const 0) (i32.add (i32.load offset=8 (i32.const 0)) (local.get $c)))
        (i32.store offset=12 (i32.const 0) (i32.add (i32.load offset=12 (i32.const 0)) (local.get $d)))
        (i32.store offset=16 (i32.const 0) (i32.add (i32.load offset=16 (i32.const 0)) (local.get $e)))
        (i32.store offset=20 (i32.const 0) (i32.add (i32.load offset=20 (i32.const 0)) (local.get $f)))
        (i32.store offset=24 (i32.const 0) (i32.add (i32.load offset=24 (i32.const 0)) (local.get $g)))
        (i32.store offset=28 (i32.const 0) (i32.add (i32.load offset=28 (i32.const 0)) (local.get $h)))
        (local.set $p (i32.add (local.get $p) (i32.const 64)))
        (br $block))))
)
