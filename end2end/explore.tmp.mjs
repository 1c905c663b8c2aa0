import { chromium } from '@playwright/test';
const b = await chromium.launch({executablePath:'/usr/bin/chromium', args:['--no-sandbox','--disable-gpu','--disable-quic','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync']});
const [from, sel, n] = process.argv.slice(2);
for (let i=0;i<Number(n||3);i++){
const p = await b.newPage();
const errs=[];
p.on('console', m => { if (m.type()==='error') errs.push(m.text().split('\n').slice(0,2).join(' | ')); });
p.on('pageerror', e => errs.push('PAGEERR '+e.message));
await p.goto('http://127.0.0.1:3900'+from);
await p.waitForSelector('body[data-hydrated="true"]');
await p.evaluate(()=>{window.__marker=1});
await p.locator(sel).first().click();
await p.waitForTimeout(1500);
console.log(i, p.url(), 'same document:', await p.evaluate(()=>window.__marker===1), await p.locator('h1').innerText());
for (const e of errs) console.log('   ', e.slice(0,300));
await p.close();
}
await b.close();
