//! The static pages of the demo site: (slug, title, Markdown), in footer order.

/// About, Contact, Disclaimer, Terms of use and Privacy Policy.
pub(crate) const PAGES: [(&str, &str, &str); 5] = [
    ("about", "About", ABOUT),
    ("contact", "Contact", CONTACT),
    ("disclaimer", "Disclaimer", DISCLAIMER),
    ("terms-of-use", "Terms of use", TERMS),
    ("privacy-policy", "Privacy Policy", PRIVACY),
];

const ABOUT: &str = "\
newsdesk is an independent publisher of news about development: the work of making life healthier, \
safer, fairer and more prosperous, and the people who do it. We report from twelve editions, from the \
Pacific to Latin America and the Caribbean, and across fifteen sectors, from agro-forestry to water \
and sanitation.

## What we publish

- **News** from our own desks and from the agencies we subscribe to, clearly labelled.
- **Opinion** and **blogs** by practitioners, researchers and our own writers.
- **Interviews** and **analysis** that go behind the numbers.
- **Shorts**: brief videos from the places we cover.
- **Press releases** from organisations working in the field, marked as such.

## How we work

Stories written by our editors carry the name of a desk or of a person. When a desk story is built on \
agency copy, it says so at the end. When agency copy is published without editing, we say that too. \
Corrections are shown on the story itself and collected in a public corrections feed.

newsdesk is reader-funded and does not accept payment for coverage.
";

const CONTACT: &str = "\
We read everything that reaches us, and we answer as much of it as we can.

## Write to the newsroom

Story ideas, tips and corrections: **desk@newsdesk.example**. Please tell us which story you are \
writing about and, for corrections, what you believe is wrong and how you know.

## Press releases

Organisations can send press releases to the same address. We publish some of them in the Press \
Releases section, always labelled; sending one does not guarantee publication.

## Feedback

Use the **Give Feedback** link at the bottom of any page to tell us what works and what does not. \
If you would like a reply, leave an e-mail address.

We do not take calls from unknown numbers; e-mail is the most reliable way to reach an editor.
";

const DISCLAIMER: &str = "\
The stories on this site are published for information. We take care to check what we publish, \
but we cannot guarantee that every detail is complete or current, and we correct errors openly when \
we find them.

## Agency and third-party content

Some stories are based on copy from news agencies, and some are published from a syndicated feed \
without editing; each such story carries a line saying so. Press releases are the words of the \
organisations that issued them. Opinion pieces and blogs reflect the views of their authors, not of \
newsdesk.

## Links

Links to other sites are provided for convenience. We are not responsible for their content, and a \
link is not an endorsement.

Nothing on this site is financial, legal or medical advice.
";

const TERMS: &str = "\
By using this site you agree to these terms. Please read them; they are short.

## Using our content

You may read, print and share links to our stories for personal, non-commercial use. You may quote \
short passages with a credit and a link to the original. Republishing whole stories, images or videos \
needs our written permission; write to desk@newsdesk.example.

## Your contributions

If you send us feedback, tips or comments, you confirm that you have the right to do so and allow us \
to use them in our reporting. We will not publish your name without asking.

## Fair use of the service

Do not try to disrupt the site, scrape it at a rate that harms other readers, or get around any \
restriction on content that is not yet public.

## Changes

We may update these terms; the date of the latest change is shown on this page.
";

const PRIVACY: &str = "\
We collect as little about you as we can, and we do not sell what we collect.

## What we collect

- **Reading:** we count page views per story and edition to build our trending lists. The counts do \
not identify you.
- **Newsletter:** if you subscribe, we keep your e-mail address and the editions you chose. Every \
newsletter has a one-click unsubscribe link.
- **Feedback:** messages you send us, with an e-mail address if you give one.

## Cookies

The reader site does not need cookies to work. The newsroom uses a session cookie for signed-in \
staff only.

## Your rights

You can ask us what we hold about you, ask us to correct it, or ask us to delete it, by writing to \
desk@newsdesk.example. We answer within thirty days.
";
