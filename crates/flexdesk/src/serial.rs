//! Work done one item at a time, in arrival order, even when doing one item adds more (the SDK and the web chat
//! may call back into the desk synchronously).

use std::cell::{Cell, RefCell};

/// A queue with one worker: whoever [`Serial::push`]es onto an idle queue becomes its worker and takes items with
/// [`Serial::next`] until it is empty; anyone else only adds. Three uses: the session's events (handled at once),
/// SDK items being converted (some need an async lookup), web-chat callbacks (each after the previous one settled).
pub struct Serial<T> {
    // A Vec, not a VecDeque: these queues hold a handful of items, and VecDeque's ring code (here and in the core's
    // outbox) cost the size-budgeted wasm 0.7 KiB gzipped, measured with scripts/build-wasm.
    items: RefCell<Vec<T>>,
    working: Cell<bool>,
}

impl<T> Default for Serial<T> {
    fn default() -> Self {
        Serial { items: RefCell::new(Vec::new()), working: Cell::new(false) }
    }
}

impl<T> Serial<T> {
    /// Adds `item`; `true` when the queue had no worker: the caller is now its worker.
    #[must_use]
    pub fn push(&self, item: T) -> bool {
        self.items.borrow_mut().push(item);
        !self.working.replace(true)
    }

    /// Adds `item` from inside the work (the worker takes it next round).
    pub fn defer(&self, item: T) {
        self.items.borrow_mut().push(item);
    }

    /// The next item for the worker; `None` when the queue is empty, and it has no worker any more.
    pub fn next(&self) -> Option<T> {
        let mut items = self.items.borrow_mut();
        let next = (!items.is_empty()).then(|| items.remove(0));
        if next.is_none() {
            self.working.set(false);
        }
        next
    }
}
