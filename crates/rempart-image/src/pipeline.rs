//! Decompression on its own thread, so that inflating a layer and analysing its files overlap.
//! A big layer is otherwise read on one core while the other waits.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Chunks in flight between the threads, and read chunks kept for reuse: with the one being
/// filled and the one being read, this bounds the memory added to 8 MiB per layer.
const CHUNKS_IN_FLIGHT: usize = 4;
const SPARE_CHUNKS: usize = 2;
const CHUNK_BYTES: usize = 1024 * 1024;

/// The reading end: yields what the producer thread read, and its error if it failed.
pub(crate) struct ChannelReader {
    chunks: Receiver<io::Result<Vec<u8>>>,
    /// Read chunks go back to the producer, which refills them: a fresh megabyte per chunk
    /// costs zeroing and page faults on every byte of every layer.
    spent: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    position: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.position == self.current.len() {
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    let spent = std::mem::replace(&mut self.current, chunk);
                    // The producer may have stopped or hold enough spares: then it is dropped.
                    let _ = self.spent.try_send(spent);
                    self.position = 0;
                }
                Ok(Err(error)) => return Err(error),
                // The producer finished: end of stream.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.position);
        buf[..n].copy_from_slice(&self.current[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
}

/// Runs `consume` on a reader fed by a thread that reads the stream `open` makes of `raw` (the
/// decompressor is built on that thread: it need not be `Send`). When `consume` returns early,
/// the producer stops at its next chunk because the channel is closed.
pub(crate) fn with_read_ahead<T>(
    raw: &mut (dyn Read + Send),
    open: impl for<'r> FnOnce(&'r mut (dyn Read + Send)) -> io::Result<Box<dyn Read + 'r>> + Send,
    consume: impl FnOnce(&mut ChannelReader) -> T,
) -> T {
    let (sender, receiver) = sync_channel(CHUNKS_IN_FLIGHT);
    let (spent_sender, spent) = sync_channel::<Vec<u8>>(SPARE_CHUNKS);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut source = match open(raw) {
                Ok(source) => source,
                Err(error) => {
                    let _ = sender.send(Err(error));
                    return;
                }
            };
            loop {
                let mut chunk = spent.try_recv().unwrap_or_default();
                chunk.resize(CHUNK_BYTES, 0);
                let mut filled = 0;
                let result = loop {
                    match source.read(&mut chunk[filled..]) {
                        Ok(0) => break Ok(()),
                        Ok(n) => {
                            filled += n;
                            if filled == chunk.len() {
                                break Ok(());
                            }
                        }
                        Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                        Err(error) => break Err(error),
                    }
                };
                let at_end = filled < chunk.len();
                chunk.truncate(filled);
                if filled > 0 && sender.send(Ok(chunk)).is_err() {
                    return;
                }
                match result {
                    Err(error) => {
                        let _ = sender.send(Err(error));
                        return;
                    }
                    Ok(()) if at_end => return,
                    Ok(()) => {}
                }
            }
        });
        let mut reader = ChannelReader {
            chunks: receiver,
            spent: spent_sender,
            current: Vec::new(),
            position: 0,
        };
        let result = consume(&mut reader);
        // Dropping the receiver makes the producer's next send fail, so it stops.
        drop(reader);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Yields some bytes, then fails.
    struct Failing(usize);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.0);
            self.0 -= n;
            Ok(n)
        }
    }

    #[test]
    fn passes_every_byte_and_the_error() {
        let data: Vec<u8> = (0..3 * CHUNK_BYTES + 123)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut source = &data[..];
        let copied = with_read_ahead(
            &mut source,
            |raw| Ok(Box::new(raw)),
            |reader| {
                let mut out = Vec::new();
                reader.read_to_end(&mut out).unwrap();
                out
            },
        );
        assert_eq!(copied, data);

        let error = with_read_ahead(
            &mut Failing(10),
            |raw| Ok(Box::new(raw)),
            |reader| io::copy(reader, &mut io::sink()),
        )
        .unwrap_err();
        assert_eq!(error.to_string(), "disk on fire");
    }

    #[test]
    fn an_early_stop_ends_the_producer() {
        let mut endless = io::repeat(7);
        let first = with_read_ahead(
            &mut endless,
            |raw| Ok(Box::new(raw)),
            |reader| {
                let mut byte = [0u8; 1];
                reader.read_exact(&mut byte).unwrap();
                byte[0]
            },
        );
        assert_eq!(first, 7);
    }
}
