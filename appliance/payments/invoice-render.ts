import type { Invoice } from './model.js';

export function formatMoney(minor: number, currency: string): string {
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')} ${currency.toUpperCase()}`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** A standalone, printable HTML invoice. */
export function renderInvoiceHtml(invoice: Invoice): string {
  const rows = invoice.lines
    .map(
      (line) =>
        `<tr><td>${escapeHtml(line.description)}</td><td class="n">${line.quantity}</td><td class="n">${formatMoney(
          line.unitAmountMinor,
          invoice.currency,
        )}</td><td class="n">${formatMoney(line.amountMinor, invoice.currency)}</td></tr>`,
    )
    .join('');
  const status = invoice.status === 'refunded' ? '<p class="status">REFUNDED</p>' : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice ${escapeHtml(invoice.number)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto}table{width:100%;border-collapse:collapse}
td,th{border-bottom:1px solid #ccc;padding:.4rem;text-align:left}.n{text-align:right}.status{color:#b00020;font-weight:bold}</style></head>
<body><h1>Invoice ${escapeHtml(invoice.number)}</h1>${status}
<section><h2>Seller</h2><p>${escapeHtml(invoice.seller.name)}<br>${escapeHtml(invoice.seller.address).replace(/\n/g, '<br>')}${
    invoice.seller.taxId ? `<br>Tax ID: ${escapeHtml(invoice.seller.taxId)}` : ''
  }</p></section>
<section><h2>Billed to</h2><p>${escapeHtml(invoice.buyer.name)}<br>${escapeHtml(invoice.buyer.email)}</p></section>
<p>Date: ${isoDate(invoice.issuedAt)}</p>
<table><thead><tr><th>Description</th><th class="n">Qty</th><th class="n">Unit price</th><th class="n">Amount</th></tr></thead>
<tbody>${rows}</tbody></table>
<table><tr><td>Net</td><td class="n">${formatMoney(invoice.subtotalMinor, invoice.currency)}</td></tr>
<tr><td>Tax (${invoice.seller.taxRatePercent}%, included)</td><td class="n">${formatMoney(invoice.taxMinor, invoice.currency)}</td></tr>
<tr><th>Total</th><th class="n">${formatMoney(invoice.totalMinor, invoice.currency)}</th></tr></table>
<p>Paid by card.</p></body></html>`;
}

/**
 * The same invoice as a PDF (pdfkit, built-in Helvetica: no font files needed).
 * pdfkit is loaded at the first PDF, not at start: it alone holds about 25 MB
 * of the appliance's memory, and most boxes rarely render one.
 */
export async function renderInvoicePdf(invoice: Invoice): Promise<Buffer> {
  const { default: PDFDocument } = await import('pdfkit');
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({
      size: 'A4',
      margin: 50,
      info: { Title: `Invoice ${invoice.number}`, Author: invoice.seller.name, Subject: `Invoice ${invoice.number}` },
    });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.fontSize(20).text(`Invoice ${invoice.number}`);
    if (invoice.status === 'refunded') doc.fillColor('#b00020').fontSize(12).text('REFUNDED').fillColor('black');
    doc
      .moveDown()
      .fontSize(10)
      .text(`Date: ${isoDate(invoice.issuedAt)}`);
    doc.moveDown().fontSize(12).text('Seller', { underline: true }).fontSize(10).text(invoice.seller.name);
    if (invoice.seller.address) doc.text(invoice.seller.address);
    if (invoice.seller.taxId) doc.text(`Tax ID: ${invoice.seller.taxId}`);
    doc
      .moveDown()
      .fontSize(12)
      .text('Billed to', { underline: true })
      .fontSize(10)
      .text(invoice.buyer.name)
      .text(invoice.buyer.email);
    doc.moveDown().fontSize(12).text('Items', { underline: true }).fontSize(10);
    for (const line of invoice.lines) {
      doc.text(`${line.quantity} × ${line.description}: ${formatMoney(line.amountMinor, invoice.currency)}`);
    }
    doc.moveDown();
    doc.text(`Net: ${formatMoney(invoice.subtotalMinor, invoice.currency)}`);
    doc.text(`Tax (${invoice.seller.taxRatePercent}%, included): ${formatMoney(invoice.taxMinor, invoice.currency)}`);
    doc.fontSize(12).text(`Total: ${formatMoney(invoice.totalMinor, invoice.currency)}`);
    doc.end();
  });
}
