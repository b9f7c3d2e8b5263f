// Agency copy for the wire desk tests: several agencies report the same events in their own words
// (ninjs 1.x and 2.x files for `newsdesk ingest`, an RSS 2.0 document for the push endpoint), so
// that the clusterer puts each event's reports together and the cluster page has versions to
// compare.
//
// Three events, all published in the last hours (the clusterer looks 48 hours back):
//   floods  - flooding in Nairobi, Kenya (East Africa, a natural disaster): Harbour Press and
//             Meridian Wire in files, Lakeside Bulletin by push; the figures differ between them,
//             and Meridian's report carries a picture on its own server
//   final   - a football final in Accra, Ghana (West Africa, sport): Harbour Press only, with
//             hostile markup in its body that must reach the page as harmless text, a picture
//             with a relative address and one on the agency's server
//   sommet  - a climate summit in Dakar, Senegal, in French: Meridian Wire only

import { writeFileSync } from 'node:fs';
import path from 'node:path';

/** Agency names (the CLI takes a file's agency from its name, so these are the file stems). */
export const AGENCIES = {
  harbour: 'Harbour Press',
  meridian: 'Meridian Wire',
  lakeside: 'Lakeside Bulletin',
};

const iso = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const rfc822 = (d) => d.toUTCString().replace('GMT', '+0000');
const minutesBefore = (now, m) => new Date(now.getTime() - m * 60_000);

/** The headlines each test looks for, per event and agency. */
export function headlines(run) {
  return {
    floods: {
      harbour: `Floods cut off Nairobi suburbs after a night of heavy rain (${run})`,
      meridian: `Nairobi floods: rescuers reach cut-off suburbs (${run})`,
      lakeside: `Kenya: heavy rain floods Nairobi suburbs, thousands displaced (${run})`,
    },
    final: { harbour: `Accra hosts the West African football final on Sunday (${run})` },
    sommet: { meridian: `Sommet sur le climat à Dakar : les ministres cherchent un accord (${run})` },
  };
}

const FLOOD_HARBOUR = [
  'Heavy rain overnight flooded several suburbs of Nairobi, the Kenyan capital, cutting off roads and forcing thousands of residents from their homes, the Kenya Red Cross said on Tuesday.',
  'At least 12 people died and more than 4,000 were displaced as the Nairobi River burst its banks in Mathare and Kibera, the Red Cross said.',
  'Rescue teams used boats to reach families stranded on rooftops. The Kenya Meteorological Department warned that more heavy rain was expected in Nairobi until Thursday.',
];
const FLOOD_MERIDIAN = [
  'Heavy rain overnight flooded several suburbs of Nairobi, the Kenyan capital, cutting off roads and driving thousands of residents from their homes, the Kenya Red Cross said on Tuesday.',
  'At least 14 people died and more than 5,000 were displaced as the Nairobi River burst its banks in Mathare and Kibera, officials said.',
  'Rescue teams used boats and a helicopter to reach families stranded on rooftops. The Kenya Meteorological Department warned that more heavy rain was expected in Nairobi until Friday.',
];
const FLOOD_LAKESIDE = [
  'Heavy rain flooded several suburbs of Nairobi overnight, cutting off roads and forcing thousands of Kenyan residents from their homes, the Kenya Red Cross said on Tuesday.',
  'At least 12 people died as the Nairobi River burst its banks in Mathare and Kibera. The Red Cross put the number of displaced at 4,500.',
  'Rescue teams used boats to reach families stranded on rooftops, and the Kenya Meteorological Department warned of more heavy rain in Nairobi this week.',
];

const html = (paras) => paras.map((p) => `<p>${p}</p>`).join('\n');

/**
 * Writes the files for `newsdesk ingest` into `dir` and returns
 * { files: [paths], push: { body, contentType }, headlines }.
 */
export function writeWireCopy(dir, run, now = new Date()) {
  const h = headlines(run);
  const files = [];

  // Harbour Press: ninjs 2.x, two items in an array.
  const harbour = [
    {
      uri: `urn:harbourpress:${run}:floods`,
      version: '2',
      type: 'text',
      language: 'en',
      urgency: 3,
      pubstatus: 'usable',
      firstcreated: iso(minutesBefore(now, 50)),
      versioncreated: iso(minutesBefore(now, 40)),
      headlines: [{ role: 'main', value: h.floods.harbour }],
      descriptions: [{ role: 'summary', value: 'At least 12 dead and more than 4,000 displaced as the Nairobi River bursts its banks.' }],
      bodies: [{ contenttype: 'text/html', value: html(FLOOD_HARBOUR) }],
      byline: 'Harbour Press staff',
      subjects: [{ uri: 'http://cv.iptc.org/newscodes/mediatopic/20000151', name: 'natural disaster' }],
      places: [{ name: 'Kenya', code: 'KE', scheme: 'iso3166' }],
    },
    {
      uri: `urn:harbourpress:${run}:final`,
      version: '1',
      type: 'text',
      language: 'en',
      urgency: 5,
      pubstatus: 'usable',
      firstcreated: iso(minutesBefore(now, 30)),
      versioncreated: iso(minutesBefore(now, 30)),
      headlines: [{ role: 'main', value: h.final.harbour }],
      bodies: [
        {
          contenttype: 'text/html',
          value:
            '<p>Ghana meets Senegal in the final of the West African football championship at the Accra Sports Stadium on Sunday.</p>' +
            '<p onclick="alert(201)">Tickets sold out within hours, the organisers said.<script>alert(202)</script></p>' +
            '<p><img src="x" onerror="alert(203)" alt="">The coach named an unchanged side. <a href="javascript:alert(204)">Line-ups</a></p>' +
            '<figure><img src="https://photos.harbourpress.example/2024/accra-stadium.jpg" alt="The Accra Sports Stadium"><figcaption>The stadium. (Harbour Press)</figcaption></figure>',
        },
      ],
      subjects: [{ uri: 'http://cv.iptc.org/newscodes/mediatopic/15000000', name: 'sport' }],
      places: [{ name: 'Ghana', code: 'GH', scheme: 'iso3166' }],
    },
  ];
  const harbourFile = path.join(dir, `${AGENCIES.harbour}.json`);
  writeFileSync(harbourFile, JSON.stringify(harbour, null, 2));
  files.push(harbourFile);

  // Meridian Wire: ninjs 1.x keys.
  const meridianFloods = {
    uri: `urn:meridian:${run}:nairobi-floods`,
    version: 1,
    type: 'text',
    language: 'en',
    urgency: 3,
    pubstatus: 'usable',
    versioncreated: iso(minutesBefore(now, 35)),
    headline: h.floods.meridian,
    description_text: 'Rescuers reach suburbs of Nairobi cut off by floods; at least 14 dead.',
    body_html:
      html(FLOOD_MERIDIAN.slice(0, 1)) +
      '\n<figure><img src="https://photos.meridianwire.example/2024/nairobi-floods.jpg" alt="A flooded street in Mathare" width="800" height="533">' +
      '<figcaption>A flooded street in Mathare, Nairobi. (Meridian Wire)</figcaption></figure>\n' +
      html(FLOOD_MERIDIAN.slice(1)),
    byline: 'Meridian Wire',
    subject: [{ code: '20000151', scheme: 'http://cv.iptc.org/newscodes/mediatopic/', name: 'natural disaster' }],
    place: [{ name: 'Kenya', code: 'KE', scheme: 'iso3166' }],
  };
  const meridianSommet = {
    uri: `urn:meridian:${run}:sommet-dakar`,
    version: 1,
    type: 'text',
    language: 'fr',
    urgency: 4,
    pubstatus: 'usable',
    versioncreated: iso(minutesBefore(now, 20)),
    headline: h.sommet.meridian,
    body_text:
      'Les ministres de l’environnement de quinze pays africains se retrouvent à Dakar, au Sénégal, pour un sommet sur le climat.\n\n' +
      'Ils cherchent un accord sur le financement de l’adaptation avant la conférence des Nations unies.',
    subject: [{ code: '06000000', scheme: 'http://cv.iptc.org/newscodes/mediatopic/', name: 'environnement' }],
    place: [{ name: 'Sénégal', code: 'SN', scheme: 'iso3166' }],
  };
  const meridianFile = path.join(dir, `${AGENCIES.meridian}.json`);
  writeFileSync(meridianFile, JSON.stringify([meridianFloods, meridianSommet], null, 2));
  files.push(meridianFile);

  // Lakeside Bulletin pushes RSS 2.0 to its source's endpoint.
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const rss =
    '<?xml version="1.0" encoding="utf-8"?>\n' +
    '<rss version="2.0"><channel><title>Lakeside Bulletin</title><link>https://lakeside.example/</link>' +
    '<description>Lakeside Bulletin wire</description><language>en</language>' +
    `<item><title>${esc(h.floods.lakeside)}</title>` +
    `<link>https://lakeside.example/${run}/nairobi-floods</link>` +
    `<guid isPermaLink="false">lakeside-${run}-nairobi-floods</guid>` +
    `<pubDate>${rfc822(minutesBefore(now, 25))}</pubDate>` +
    '<category>Kenya</category>' +
    `<description>${esc(html(FLOOD_LAKESIDE))}</description></item>` +
    '</channel></rss>\n';

  return { files, push: { body: rss, contentType: 'application/rss+xml' }, headlines: h };
}
