import { GatewayError } from '../../core/errors.js';

function invalid(reason: string): GatewayError {
  return new GatewayError('invalid_archive', `The body is not a valid tar archive: ${reason}.`);
}

/**
 * The records of a pax extended header, `<length> <key>=<value>\n` each, read by their length
 * as POSIX defines them (node-tar splits on newlines instead and quietly drops a record whose
 * value holds one, falling back to the ustar name: a second reading that is refused here by
 * refusing any record that does not parse). Values stay raw bytes. A key given twice keeps the
 * last value, as every pax reader does.
 */
export function parsePaxRecords(body: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let offset = 0;

  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    if (space === -1 || space - offset > 20) throw invalid('malformed pax record');

    const lengthText = body.subarray(offset, space).toString('latin1');
    if (!/^[1-9][0-9]*$/.test(lengthText)) throw invalid('malformed pax record length');
    const end = offset + Number(lengthText);
    if (end > body.length || body[end - 1] !== 0x0a) throw invalid('malformed pax record');

    const record = body.subarray(space + 1, end - 1);
    const equals = record.indexOf(0x3d);
    if (equals <= 0) throw invalid('pax record without a key');

    records.set(record.subarray(0, equals).toString('latin1'), record.subarray(equals + 1));
    offset = end;
  }

  return records;
}
