//! Telegram link codes: issued for a consumer or a staff member, shown with the bot's deep link.

use maud::{Markup, html};
use poem::Result;
use service::Context;
use service::access::telegram::LinkTarget;

use crate::auth::{Authorized, Policy};
use crate::error::internal;
use crate::forms::moment_text;
use crate::lists::crumbs;
use crate::{PanelConfig, layout};

/// `https://t.me/<bot>?start=CODE`: opening it in Telegram sends the code to the bot.
pub fn deep_link(bot_username: &str, code: &str) -> String {
    format!("https://t.me/{}?start={code}", bot_username.trim_start_matches('@'))
}

/// Issues a code for `target` and shows it. It is rendered in the response to the POST, not
/// put in a flash message, so it is not kept in the session.
pub async fn issue<P: Policy>(
    user: &Authorized<P>,
    ctx: &Context,
    config: &PanelConfig,
    target: LinkTarget,
    whom: &str,
    back: &str,
) -> Result<Markup> {
    let code = service::access::telegram::issue_code(ctx, target, Some(user.id())).await.map_err(internal)?;
    Ok(layout::page(
        user,
        "Код привязки Telegram",
        html! {
            (crumbs(&[(back, whom)]))
            p { "Код для «" (whom) "»:" }
            p.code { code { (code.code) } }
            p { "Код одноразовый, действует до " (moment_text(ctx, code.expires_at)) "." }
            @match config.bot_username.get() {
                Some(bot) => {
                    @let link = deep_link(bot, &code.code);
                    p { "Ссылка для Telegram: " a href=(link) { (link) } }
                    p.muted { "Откройте ссылку на телефоне или отправьте боту команду /start " (code.code) "." }
                }
                None => p.flash.error { "Telegram-бот сейчас выключен: код можно будет отправить боту, когда его включат." },
            }
            p { a href=(back) { "← Назад" } }
        },
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn deep_link_drops_the_at_sign() {
        assert_eq!(super::deep_link("@coop_bot", "ABCD2345"), "https://t.me/coop_bot?start=ABCD2345");
    }
}
