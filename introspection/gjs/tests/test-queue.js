// test-queue.js: Aio.Queue between JS tasks
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const {test, runTests, assert, assertEqual, assertRejects} = imports.tap;
const aio = imports.aio;
const {Aio} = aio;

test('producer/consumer through a bounded FIFO queue, with join()', async () => {
    const queue = Aio.Queue.new_with_order(Aio.QueueOrder.FIFO, 2);
    const items = ['a', 42, {k: 'v'}, [1, 2], true, null];
    const consumed = [];
    let maxSize = 0;

    const producer = aio.createTask(async () => {
        for (const item of items) {
            await queue.put_value(item);
            maxSize = Math.max(maxSize, queue.get_size());
        }
        return 'produced';
    }, {name: 'producer'});

    const consumers = [1, 2].map(n => aio.createTask(async () => {
        for (;;) {
            const item = await queue.get();
            await Aio.sleep(0.01);
            consumed.push(item);
            queue.task_done();
        }
    }, {name: `consumer-${n}`}));

    assertEqual(await producer, 'produced', 'producer');
    await queue.join();
    assert(maxSize <= 2, `the queue never held more than 2 (${maxSize})`);
    assertEqual(queue.get_unfinished(), 0, 'nothing unfinished');
    for (const c of consumers)
        c.cancel(null);
    const outcomes = await aio.gather(consumers, {returnExceptions: true});
    assert(outcomes.every(aio.isCancelled), 'consumers cancelled while waiting on get()');
    assertEqual(consumed.length, items.length, 'every item consumed');
    const key = v => JSON.stringify(v);
    assertEqual(consumed.map(key).sort(), items.map(key).sort(), 'the same items, arrays included');
});

test('put_value_nowait / get_value_nowait, QueueFull and QueueEmpty', async () => {
    const queue = Aio.Queue.new_with_order(Aio.QueueOrder.LIFO, 1);
    queue.put_value_nowait([1, 2, 3]);
    const full = await assertRejects((async () => queue.put_value_nowait('x'))());
    assert(full.matches(Aio.Error, Aio.Error.QUEUE_FULL), 'QUEUE_FULL');
    const [ok, value] = queue.get_value_nowait();
    assert(ok, 'got one');
    assertEqual(value, [1, 2, 3], 'the array, unboxed');
    const empty = await assertRejects((async () => queue.get_value_nowait())());
    assert(empty.matches(Aio.Error, Aio.Error.QUEUE_EMPTY), 'QUEUE_EMPTY');
});

test('a priority queue gives the lowest priority first', async () => {
    const queue = Aio.Queue.new_with_order(Aio.QueueOrder.PRIORITY, 0);
    await queue.put_value_with_priority('low', 10);
    await queue.put_value_with_priority('high', 1);
    await queue.put_value_with_priority('middle', 5);
    const got = [await queue.get(), await queue.get(), await queue.get()];
    assertEqual(got, ['high', 'middle', 'low'], 'order');
});

test('shutdown(): a waiting getter fails with QUEUE_SHUT_DOWN', async () => {
    const queue = Aio.Queue.new_with_order(Aio.QueueOrder.FIFO, 0);
    const getter = aio.createTask(() => queue.get());
    await Aio.sleep(0.01);
    queue.shutdown(false);
    await assertRejects(getter, e => e.matches(Aio.Error, Aio.Error.QUEUE_SHUT_DOWN));
    assert(queue.is_shut_down(), 'shut down');
});

runTests();
