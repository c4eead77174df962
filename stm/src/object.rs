//! Typed objects: the [`Object`] trait for user types, the built-in arrays
//! ([`RefArray`], [`DataArray`]), the [`HeapType`]s a reference can name,
//! transaction-scoped handles ([`Obj`]) and handles that outlive
//! transactions ([`Root`], [`GlobalRoot`]).
//!
//! An object's body is its reference slots (`T::REFS` words, read and written
//! through the transaction) followed by the plain data `T`, which is copied in
//! and out whole: no reference into heap memory ever reaches user code.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;
use strata_gc::HandleSlot;

/// A type whose values live in the heap: plain data (`Copy`, no borrowed
/// references to the heap) plus `REFS` reference slots kept beside it and
/// accessed with [`Tx::get_ref`](crate::Tx::get_ref) and
/// [`Tx::set_ref`](crate::Tx::set_ref). Its alignment must be at most 8,
/// and `REFS` at most 2^24 (a larger `REFS` fails to compile where the type
/// is used: the collector keeps reference offsets in 32 bits).
///
/// ```
/// #[derive(Clone, Copy)]
/// struct Account {
///     balance: i64,
/// }
/// impl strata::Object for Account {}
///
/// #[derive(Clone, Copy)]
/// struct ListNode {
///     value: u64,
/// }
/// impl strata::Object for ListNode {
///     const REFS: usize = 1; // the next node
/// }
/// ```
pub trait Object: Copy + Send + Sync + 'static {
    /// How many reference slots each object has.
    const REFS: usize = 0;
}

/// Plain numbers, flags and characters are objects of no references, so
/// that the structures of `collections/` hold them as keys and values.
macro_rules! plain_objects {
    ($($t:ty),*) => {
        $(impl Object for $t {})*
    };
}
plain_objects!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64, bool, char
);

/// The built-in variable-length array of references, made by
/// [`Tx::alloc_array`](crate::Tx::alloc_array).
#[derive(Debug, Clone, Copy)]
pub enum RefArray {}

/// The built-in variable-length array of plain elements (integers or
/// floats), made zeroed by [`Tx::alloc_data`](crate::Tx::alloc_data). The
/// collector does not scan its elements.
///
/// ```
/// let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
/// let mut thread = heap.attach().unwrap();
/// let sum = thread
///     .atomically(|tx| {
///         let samples = tx.alloc_data::<f64>(4);
///         tx.write_data(samples, |s| s.copy_from_slice(&[0.5, 1.5, 2.0, 4.0]));
///         tx.set_data(samples, 0, 2.5);
///         tx.read_data(samples, |s| s.iter().sum::<f64>())
///     })
///     .unwrap();
/// assert_eq!(sum, 10.0);
/// ```
pub struct DataArray<E> {
    _never: std::convert::Infallible,
    _element: PhantomData<E>,
}

/// An element type of a [`DataArray`]: a primitive integer or float, for
/// which every bit pattern (zero in particular) is a valid value.
pub trait Element: Copy + Send + Sync + 'static + sealed::Sealed {}

macro_rules! elements {
    ($($t:ty),*) => {
        $(impl sealed::Sealed for $t {}
          impl Element for $t {})*
    };
}
elements!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize, f32, f64);

/// What a reference can point at: a user type ([`Object`]), a [`RefArray`]
/// or a [`DataArray`]. Sealed: the three are all there is.
pub trait HeapType: 'static + sealed::SealedHeapType {
    #[doc(hidden)]
    fn shape() -> sealed::Shape;
}

impl<T: Object> sealed::SealedHeapType for T {}
impl<T: Object> HeapType for T {
    fn shape() -> sealed::Shape {
        sealed::Shape::Fixed {
            refs: const { checked_refs::<T>() },
            data_bytes: data_bytes::<T>(),
            align: std::mem::align_of::<T>(),
        }
    }
}

/// Bytes of `T`'s data in a body (after its reference slots).
const fn data_bytes<T: Object>() -> usize {
    std::mem::size_of::<T>().next_multiple_of(8)
}

/// Bytes of the body of an object of `T` (its reference slots, then its
/// data), as [`HeapType::shape`] registers it: known at compile time, so
/// that a first write copies by constants.
pub(crate) const fn body_bytes<T: Object>() -> usize {
    checked_refs::<T>() * 8 + data_bytes::<T>()
}

/// Bytes of one object of `T`, header included, as the collector computes
/// them for the type [`HeapType::shape`] registers: known at compile time,
/// so that allocation bumps and zeroes by constants
/// (`Mutator::alloc_fixed_sized` checks it against the registration).
pub(crate) const fn object_bytes<T: Object>() -> usize {
    strata_gc::header::align_up(strata_gc::header::HEADER_BYTES + body_bytes::<T>())
}

/// The most reference slots an [`Object`] may have: the collector's
/// reference offsets are 32-bit, and a fixed object this big is far past
/// any sensible layout.
const MAX_REFS: usize = 1 << 24;

/// `T::REFS`, checked against [`MAX_REFS`] (in a constant context, so a
/// type with too many slots is refused when the program is compiled).
const fn checked_refs<T: Object>() -> usize {
    assert!(
        T::REFS <= MAX_REFS,
        "strata: Object::REFS is at most 1 << 24 (16,777,216 reference slots)"
    );
    T::REFS
}

impl sealed::SealedHeapType for RefArray {}
impl HeapType for RefArray {
    fn shape() -> sealed::Shape {
        sealed::Shape::RefArray
    }
}

impl<E: Element> sealed::SealedHeapType for DataArray<E> {}
impl<E: Element> HeapType for DataArray<E> {
    fn shape() -> sealed::Shape {
        sealed::Shape::Data {
            elem_bytes: std::mem::size_of::<E>(),
        }
    }
}

/// The traits users cannot implement, and the layouts they describe.
pub(crate) mod sealed {
    pub trait Sealed {}
    pub trait SealedHeapType {}

    /// How a [`HeapType`](super::HeapType) is laid out in the heap.
    #[derive(Debug, Clone, Copy)]
    pub enum Shape {
        Fixed {
            refs: usize,
            data_bytes: usize,
            align: usize,
        },
        RefArray,
        Data {
            elem_bytes: usize,
        },
    }
}

/// A handle to an object inside one transaction. `'tx` brands it with its
/// transaction: it cannot be stored outside the closure or used in another
/// transaction. Make a [`Root`] to keep an object past the transaction.
pub struct Obj<'tx, T> {
    pub(crate) index: u32,
    _brand: Brand<'tx>,
    _type: PhantomData<*const T>,
}

/// Brings handles of a transaction (brand `'tx`) into one of its handle
/// scopes (brand `'s`); given by [`Tx::scope`](crate::Tx::scope).
pub struct Lift<'tx, 's> {
    _outer: Brand<'tx>,
    _inner: Brand<'s>,
}

impl<'tx, 's> Lift<'tx, 's> {
    pub(crate) fn new() -> Self {
        Lift {
            _outer: PhantomData,
            _inner: PhantomData,
        }
    }

    /// The same object, as a handle of the scope.
    #[inline(always)]
    pub fn lift<T>(&self, obj: Obj<'tx, T>) -> Obj<'s, T> {
        // The outer transaction is borrowed for the whole scope, so `obj`
        // was made before it: its index is in the arena's untouched prefix.
        Obj::new(obj.index)
    }
}

impl Clone for Lift<'_, '_> {
    fn clone(&self) -> Self {
        *self
    }
}

impl Copy for Lift<'_, '_> {}

/// Makes a type invariant in `'tx`, so that two transactions' brands never
/// unify.
pub(crate) type Brand<'tx> = PhantomData<fn(&'tx ()) -> &'tx ()>;

impl<T> Obj<'_, T> {
    pub(crate) fn new(index: u32) -> Self {
        Obj {
            index,
            _brand: PhantomData,
            _type: PhantomData,
        }
    }
}

impl<T> Clone for Obj<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Obj<'_, T> {}

impl<T> std::fmt::Debug for Obj<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Obj#{}", self.index)
    }
}

/// Slots of roots dropped since the thread last cleaned up.
pub(crate) type FreedRoots = Rc<RefCell<Vec<HandleSlot>>>;

/// A handle that keeps an object alive across transactions on the thread
/// that made it (it is not `Send`). Made by [`Tx::root`](crate::Tx::root);
/// a root made by a transaction that then aborted is dead, and using it
/// panics.
pub struct Root<T> {
    pub(crate) slot: HandleSlot,
    pub(crate) thread_id: u64,
    freed: FreedRoots,
    _type: PhantomData<*const T>,
}

impl<T> Root<T> {
    pub(crate) fn new(slot: HandleSlot, thread_id: u64, freed: FreedRoots) -> Self {
        Root {
            slot,
            thread_id,
            freed,
            _type: PhantomData,
        }
    }
}

impl<T> Drop for Root<T> {
    fn drop(&mut self) {
        self.freed.borrow_mut().push(self.slot);
    }
}

/// A handle that keeps an object alive and can be shared between threads
/// (`Send + Sync`). Made by [`Thread::global`](crate::Thread::global)
/// outside a transaction.
///
/// ```
/// #[derive(Clone, Copy)]
/// struct Counter {
///     n: u64,
/// }
/// impl strata::Object for Counter {}
///
/// let heap = strata::Heap::new(strata::HeapConfig::default()).unwrap();
/// let mut main = heap.attach().unwrap();
/// let root = main
///     .atomically(|tx| {
///         let c = tx.alloc(Counter { n: 0 });
///         tx.root(c)
///     })
///     .unwrap();
/// let shared = main.global(&root);
/// // While other threads work, `main` waits outside the heap.
/// main.blocking(|| std::thread::scope(|s| {
///     for _ in 0..2 {
///         s.spawn(|| {
///             let mut t = heap.attach().unwrap();
///             for _ in 0..100 {
///                 t.atomically(|tx| {
///                     let c = tx.get_global(&shared);
///                     tx.update(c, |c| c.n += 1);
///                 })
///                 .unwrap();
///             }
///         });
///     }
/// }));
/// let n = main
///     .atomically(|tx| {
///         let c = tx.get_global(&shared);
///         tx.read(c).n
///     })
///     .unwrap();
/// assert_eq!(n, 200);
/// ```
pub struct GlobalRoot<T> {
    pub(crate) root: strata_gc::GlobalRoot,
    pub(crate) heap_id: u64,
    /// The clock when the root was made: its object was committed at or
    /// before it, so a transaction with an older snapshot must extend it
    /// before reading the object.
    pub(crate) since: u64,
    _type: PhantomData<fn() -> T>,
}

impl<T> GlobalRoot<T> {
    pub(crate) fn new(root: strata_gc::GlobalRoot, heap_id: u64, since: u64) -> Self {
        GlobalRoot {
            root,
            heap_id,
            since,
            _type: PhantomData,
        }
    }

    /// The commit clock when this root was made: its object was committed
    /// by then, so a transaction whose snapshot is at least this reads it
    /// without extending its snapshot.
    pub fn made_at(&self) -> u64 {
        self.since
    }

    /// Whether this root was made on `heap`.
    pub fn belongs_to(&self, heap: &crate::Heap) -> bool {
        self.heap_id == heap.gc.id()
    }
}
