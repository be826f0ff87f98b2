/* automod review gadget: Confirm false positive / Decline buttons on the bot's report page.
 * Installed by `automod install-gadgets` (automod/gadgets/); ES5, as MediaWiki 1.39's Gadgets
 * extension requires. Shown only to logged-in users holding one of the community's
 * report_reviewer_rights (read through the API). A click appends the reviewer's own signed line
 * under the report, ": status: confirmed|declined — … ~~~~"; the bot's own line is never edited,
 * and the bot credits the line to whoever saved it (page history), not to what it says.
 */
( function () {
	'use strict';
	var S = /*@AUTOMOD_SETTINGS@*/null;
	var MARKER = /<!--\s*automod-report rev=(\d+)\s*-->/;
	var BOT_LINE = /automod — \D*?(\d+)\b.*?status:\s*([A-Za-z-]+)/;
	var BOT_LINES = /automod — \D*?(\d+)\b.*?status:\s*([A-Za-z-]+)/g;
	var DIFF = /Special:Diff\/(\d+)/;
	var REVIEW_LINE = /^:+[ \t]*status:[ \t]*(confirmed|declined)\b/im;

	if ( !S || mw.config.get( 'wgAction' ) !== 'view' || mw.user.isAnon() ) {
		return;
	}
	var api = new mw.Api();

	/* The wiki's language: the texts the installer took from the bot's message files, then any
	 * MediaWiki:Automod-gadget-… page the wiki's admins saved (they win, as for the bot's notices). */
	function loadMessages() {
		mw.messages.set( S.messages || {} );
		return api.getMessages( Object.keys( S.messages || {} ), { amlang: mw.config.get( 'wgContentLanguage' ) } )
			.then( function ( found ) {
				mw.messages.set( found );
			}, function () {} );
	}

	function msg( key ) {
		return mw.message.apply( mw, [ 'automod-gadget-' + key ].concat( Array.prototype.slice.call( arguments, 1 ) ) ).plain();
	}

	function content( page ) {
		return page && page.revisions && page.revisions[ 0 ] ? page.revisions[ 0 ].slots.main.content : null;
	}

	function sameTitle( a, b ) {
		var ta = mw.Title.newFromText( a ), tb = mw.Title.newFromText( b );
		return !!ta && !!tb && ta.getPrefixedDb() === tb.getPrefixedDb();
	}

	/* The level-2 sections of the page's wikitext, cut at the parser's offsets. */
	function reportSections( parsed ) {
		var text = parsed.wikitext, all = parsed.sections, out = [], i, j, sec, stop;
		for ( i = 0; i < all.length; i++ ) {
			sec = all[ i ];
			if ( sec.level !== '2' && sec.level !== 2 ) {
				continue;
			}
			if ( !/^\d+$/.test( String( sec.index ) ) ) {
				continue; // a transcluded section
			}
			stop = text.length;
			for ( j = i + 1; j < all.length; j++ ) {
				if ( Number( all[ j ].level ) <= 2 && all[ j ].byteoffset !== null ) {
					stop = all[ j ].byteoffset;
					break;
				}
			}
			out.push( { index: sec.index, anchor: sec.anchor, body: text.slice( sec.byteoffset, stop ) } );
		}
		return out;
	}

	function reportRev( body ) {
		var found = MARKER.exec( body ) || BOT_LINE.exec( body ) || DIFF.exec( body );
		return found ? found[ 1 ] : null;
	}

	/* Open: the bot's line says "status: open" and nobody has given a status since. */
	function isOpen( body ) {
		var m, open = false, decided = false;
		BOT_LINES.lastIndex = 0;
		while ( ( m = BOT_LINES.exec( body ) ) !== null ) {
			if ( m[ 2 ].toLowerCase() === 'open' ) {
				open = true;
			} else {
				decided = true;
			}
		}
		return open && !decided && !REVIEW_LINE.test( body ) && !/automod — \D*?\d+\D{0,40}reinstat/i.test( body );
	}

	function readPage( page ) {
		return api.get( { action: 'parse', page: page, prop: 'sections|wikitext', formatversion: 2 } )
			.then( function ( data ) {
				return reportSections( data.parse );
			} );
	}

	function decide( page, rev, status, box ) {
		box.find( 'button' ).prop( 'disabled', true );
		box.find( '.automod-review-note' ).text( msg( 'saving' ) );
		// Located again by its revision: a section added above since the page loaded moves the index.
		return readPage( page ).then( function ( sections ) {
			var target = null, i;
			for ( i = 0; i < sections.length; i++ ) {
				if ( reportRev( sections[ i ].body ) === rev && isOpen( sections[ i ].body ) ) {
					target = sections[ i ];
					break;
				}
			}
			if ( !target ) {
				return $.Deferred().reject( 'gone', msg( 'review-gone' ) ).promise();
			}
			// "status: confirmed|declined" stays as it is: the bot reads it (onwiki/report_page.py).
			return api.postWithToken( 'csrf', {
				action: 'edit',
				title: page,
				section: target.index,
				appendtext: '\n: status: ' + status + ' — ' + msg( 'review-line-' + status ) + ' ~~~~',
				summary: msg( 'review-summary-' + status, '[[Special:Diff/' + rev + ']]' ),
				nocreate: 1
			} );
		} ).then( function () {
			box.find( '.automod-review-note' ).text( msg( 'review-saved', status ) );
			box.attr( 'data-saved', status );
		}, function ( code, info ) {
			box.find( 'button' ).prop( 'disabled', false );
			box.find( '.automod-review-note' ).text( msg( 'not-saved', ( info && info.error && info.error.info ) || info || code ) );
		} );
	}

	function addButtons( page, sections ) {
		var i, sec, rev, heading, box;
		for ( i = 0; i < sections.length; i++ ) {
			sec = sections[ i ];
			rev = reportRev( sec.body );
			heading = sec.anchor ? $( document.getElementById( sec.anchor ) ).closest( 'h2' ) : $();
			if ( !rev || !heading.length || !isOpen( sec.body ) ) {
				continue;
			}
			box = $( '<div>' ).addClass( 'automod-review' ).attr( 'data-rev', rev );
			$( '<button>' ).attr( 'type', 'button' ).addClass( 'automod-review-confirm mw-ui-button mw-ui-progressive' )
				.text( msg( 'confirm' ) ).appendTo( box );
			$( '<button>' ).attr( 'type', 'button' ).addClass( 'automod-review-decline mw-ui-button mw-ui-destructive' )
				.text( msg( 'decline' ) ).appendTo( box );
			$( '<span>' ).addClass( 'automod-review-note' ).appendTo( box );
			box.on( 'click', 'button', ( function ( r, b ) {
				return function () {
					decide( page, r, $( this ).hasClass( 'automod-review-confirm' ) ? 'confirmed' : 'declined', b );
				};
			}( rev, box ) ) );
			heading.after( box );
		}
		$( document.body ).attr( 'data-automod-review', 'ready' );
	}

	api.get( { action: 'query', prop: 'revisions', titles: S.configPage, rvprop: 'content', rvslots: 'main',
		formatversion: 2 } ).then( function ( data ) {
		var config = {};
		try {
			config = JSON.parse( content( data.query.pages[ 0 ] ) || '{}' );
		} catch ( e ) {
			return;
		}
		var page = config.false_positive_page;
		if ( !page || !sameTitle( page, mw.config.get( 'wgPageName' ) ) ) {
			return;
		}
		var wanted = config.report_reviewer_rights || S.reviewerRights;
		return $.when( mw.user.getRights(), api.get( { action: 'query', meta: 'siteinfo', siprop: 'usergroups',
			formatversion: 2 } ) ).then( function ( mine, site ) {
			var anon = [], groups = site[ 0 ].query.usergroups, i;
			for ( i = 0; i < groups.length; i++ ) {
				if ( groups[ i ].name === '*' ) {
					anon = groups[ i ].rights;
				}
			}
			var allowed = wanted.some( function ( r ) {
				return mine.indexOf( r ) !== -1 && anon.indexOf( r ) === -1; // as the bot: anonymous rights never count
			} );
			if ( !allowed ) {
				$( document.body ).attr( 'data-automod-review', 'not-a-reviewer' );
				return;
			}
			return $.when( readPage( page ), loadMessages() ).then( function ( sections ) {
				addButtons( page, sections );
			} );
		} );
	} );
}() );
