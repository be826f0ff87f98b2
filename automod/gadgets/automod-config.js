/* automod config gadget: a form for the community config page, built from the JSON Schema the bot
 * validates with, and beside the threshold the evidence the bot publishes (`automod thresholds
 * --publish <page>.json`): expected reverts per day, precision so far with its 95 % interval, the
 * caution levels, as a table and an SVG plot. Saving goes through the API as the user; the
 * validation messages are the bot's own (automod/schemas/__init__.py), derived from the schema.
 * Installed by `automod install-gadgets` (automod/gadgets/); ES5, as MediaWiki 1.39's Gadgets needs.
 */
( function () {
	'use strict';
	var S = /*@AUTOMOD_SETTINGS@*/null;
	var TYPE_WORDS = { boolean: 'true or false', number: 'a number', integer: 'an integer', string: 'a string',
		array: 'a list', object: 'an object', 'null': 'null' };

	if ( !S || mw.config.get( 'wgAction' ) !== 'view' || mw.user.isAnon() ) {
		return;
	}
	var here = mw.Title.newFromText( mw.config.get( 'wgPageName' ) );
	var configTitle = mw.Title.newFromText( S.configPage );
	if ( !here || !configTitle || here.getPrefixedDb() !== configTitle.getPrefixedDb() ) {
		return;
	}
	var api = new mw.Api();
	var schema = S.schema, props = schema.properties;

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

	function show( value ) {
		return JSON.stringify( value );
	}

	function typeOf( value ) {
		if ( value === null ) {
			return 'null';
		}
		if ( Array.isArray( value ) ) {
			return 'array';
		}
		if ( typeof value === 'number' ) {
			return value % 1 === 0 ? 'integer' : 'number';
		}
		return typeof value;
	}

	function typeMatches( wanted, value ) {
		var actual = typeOf( value );
		return wanted === actual || ( wanted === 'number' && actual === 'integer' );
	}

	/* The bot's messages (schemas/__init__.py, _explain): path, then what is wrong. */
	function problems( value, sch, path, out ) {
		var types, words, custom = sch[ 'x-error' ], key, i, low, high;
		function add( message ) {
			out.push( path + ': ' + ( custom ? custom + ', got ' + show( value ) : message ) );
		}
		if ( sch.type !== undefined ) {
			types = Array.isArray( sch.type ) ? sch.type : [ sch.type ];
			if ( !types.some( function ( t ) { return typeMatches( t, value ); } ) ) {
				words = types.filter( function ( t ) { return t !== 'null'; } )
					.map( function ( t ) { return TYPE_WORDS[ t ] || t; } ).join( ' or ' );
				add( 'should be ' + words + ', got ' + show( value ) );
				return;
			}
		}
		if ( sch[ 'enum' ] && sch[ 'enum' ].indexOf( value ) === -1 ) {
			add( 'should be one of ' + sch[ 'enum' ].join( ', ' ) + '; got ' + show( value ) );
		}
		if ( typeof value === 'number' ) {
			low = sch.minimum;
			high = sch.maximum;
			if ( ( low !== undefined && value < low ) || ( high !== undefined && value > high ) ) {
				add( low !== undefined && high !== undefined ? 'should be between ' + low + ' and ' + high + ', got ' + show( value ) :
					low !== undefined ? 'should be at least ' + low + ', got ' + show( value ) :
						'should be at most ' + high + ', got ' + show( value ) );
			}
		}
		if ( typeof value === 'string' && sch.minLength !== undefined && value.length < sch.minLength ) {
			add( sch.minLength === 1 ? 'must not be empty' : 'should be at least ' + sch.minLength + ' characters' );
		}
		if ( Array.isArray( value ) ) {
			if ( sch.minItems !== undefined && value.length < sch.minItems ) {
				add( sch.minItems === 1 ? 'should be a non-empty list' : 'should list at least ' + sch.minItems + ' items' );
			}
			if ( sch.maxItems !== undefined && value.length > sch.maxItems ) {
				add( show( value ) + ' is too long' );
			}
			for ( i = 0; sch.items && i < value.length; i++ ) {
				problems( value[ i ], sch.items, path + '[' + i + ']', out );
			}
		}
		if ( typeOf( value ) === 'object' && sch.properties ) {
			for ( key in value ) {
				if ( !Object.prototype.hasOwnProperty.call( sch.properties, key ) ) {
					if ( sch.additionalProperties === false ) {
						out.push( path + '.' + key + ': unknown key' );
					}
				} else {
					problems( value[ key ], sch.properties[ key ], path + '.' + key, out );
				}
			}
		}
		return out;
	}

	/* -- the evidence --------------------------------------------------------------------------- */

	function rowFor( evidence, t ) {
		var best = null;
		( evidence && evidence.rows || [] ).forEach( function ( row ) {
			if ( row.threshold <= t + 1e-9 && ( best === null || row.threshold > best.threshold ) ) {
				best = row;
			}
		} );
		return best;
	}

	function fmt( value, digits ) {
		return value === null || value === undefined ? '–' : Number( value ).toFixed( digits );
	}

	function precisionText( row ) {
		if ( !row || row.precision === null ) {
			return msg( 'config-no-labels' );
		}
		return msg( 'config-interval', fmt( row.precision, 3 ), fmt( row.precision_low, 3 ), fmt( row.precision_high, 3 ) );
	}

	function svgPlot( evidence, t ) {
		var W = 360, H = 160, L = 40, B = 22, rows = evidence.rows, max = 0, NS = 'http://www.w3.org/2000/svg';
		rows.forEach( function ( r ) { max = Math.max( max, r.per_day || 0 ); } );
		max = max || 1;
		var x0 = rows[ 0 ].threshold, x1 = rows[ rows.length - 1 ].threshold;
		function x( v ) { return L + ( W - L - 8 ) * ( v - x0 ) / ( ( x1 - x0 ) || 1 ); }
		function y( v ) { return 8 + ( H - B - 8 ) * ( 1 - v / max ); }
		var svg = document.createElementNS( NS, 'svg' );
		svg.setAttribute( 'width', W );
		svg.setAttribute( 'height', H );
		svg.setAttribute( 'class', 'automod-config-plot' );
		function el( name, attrs, text ) {
			var node = document.createElementNS( NS, name ), k;
			for ( k in attrs ) {
				node.setAttribute( k, attrs[ k ] );
			}
			if ( text !== undefined ) {
				node.textContent = text;
			}
			svg.appendChild( node );
			return node;
		}
		el( 'line', { x1: L, y1: H - B, x2: W - 8, y2: H - B, stroke: '#72777d' } );
		el( 'line', { x1: L, y1: 8, x2: L, y2: H - B, stroke: '#72777d' } );
		el( 'text', { x: 2, y: 14, 'font-size': 10 }, fmt( max, 1 ) );
		el( 'text', { x: 2, y: H - B, 'font-size': 10 }, '0' );
		el( 'text', { x: L, y: H - 6, 'font-size': 10 }, fmt( x0, 2 ) );
		el( 'text', { x: W - 40, y: H - 6, 'font-size': 10 }, fmt( x1, 3 ) );
		el( 'text', { x: L + 60, y: H - 6, 'font-size': 10 }, msg( 'config-plot' ) );
		Object.keys( evidence.caution_levels || {} ).forEach( function ( name ) {
			var v = evidence.caution_levels[ name ];
			el( 'line', { x1: x( v ), y1: 8, x2: x( v ), y2: H - B, stroke: '#c8ccd1', 'stroke-dasharray': '3,3' } );
		} );
		el( 'polyline', { fill: 'none', stroke: '#36c', 'stroke-width': 2, points: rows.map( function ( r ) {
			return x( r.threshold ).toFixed( 1 ) + ',' + y( r.per_day || 0 ).toFixed( 1 );
		} ).join( ' ' ) } );
		var row = rowFor( evidence, t );
		if ( row && t >= x0 && t <= x1 ) {
			el( 'circle', { cx: x( t ), cy: y( row.per_day || 0 ), r: 4, fill: '#d33', 'class': 'automod-config-marker' } );
		}
		return svg;
	}

	function renderEvidence( box, evidence, t ) {
		box.empty();
		if ( !evidence || !evidence.rows || !evidence.rows.length ) {
			box.text( msg( 'config-no-evidence', S.thresholdsPage ) );
			return;
		}
		var table = $( '<table>' ).addClass( 'wikitable automod-config-evidence' );
		table.append( $( '<tr>' ).append( $( '<th>' ).text( msg( 'config-threshold' ) ),
			$( '<th>' ).text( msg( 'config-per-day' ) ), $( '<th>' ).text( msg( 'config-precision' ) ) ) );
		function line( label, value, cls ) {
			var row = rowFor( evidence, value );
			table.append( $( '<tr>' ).addClass( cls ).append( $( '<td>' ).text( label ),
				$( '<td>' ).addClass( 'automod-per-day' ).text( row ? fmt( row.per_day, 1 ) : '–' ),
				$( '<td>' ).addClass( 'automod-precision' ).text( precisionText( row ) ) ) );
		}
		if ( t !== null ) {
			line( msg( 'config-typed', t ), t, 'automod-config-typed' );
		}
		Object.keys( evidence.caution_levels || {} ).forEach( function ( name ) {
			line( name + ' (' + evidence.caution_levels[ name ] + ')', evidence.caution_levels[ name ], 'automod-config-level' );
		} );
		box.append( table, svgPlot( evidence, t === null ? -1 : t ),
			$( '<div>' ).addClass( 'automod-config-source' ).text( msg( 'config-source', evidence.observations || 0,
				fmt( evidence.days, 1 ), evidence.labelled || 0, evidence.model || '?', evidence.generated || '?' ) ) );
	}

	/* -- the form ------------------------------------------------------------------------------- */

	function kind( sch ) {
		var types = Array.isArray( sch.type ) ? sch.type : [ sch.type ];
		if ( sch[ 'enum' ] ) {
			return 'enum';
		}
		if ( types.indexOf( 'boolean' ) !== -1 ) {
			return 'boolean';
		}
		if ( types.indexOf( 'number' ) !== -1 || types.indexOf( 'integer' ) !== -1 ) {
			return 'number';
		}
		if ( types.indexOf( 'string' ) !== -1 ) {
			return 'string';
		}
		if ( types.indexOf( 'array' ) !== -1 && sch.items && sch.items.type === 'string' ) {
			return 'list';
		}
		if ( types.length === 1 && types[ 0 ] === 'object' && sch.properties ) {
			return 'object'; // a fieldset of its keys; only arrays of objects stay raw JSON
		}
		return 'json';
	}

	function readField( field ) {
		var k = field.data( 'kind' ), raw = field.val();
		if ( k === 'boolean' ) {
			return field.prop( 'checked' );
		}
		if ( k === 'number' ) {
			raw = String( raw ).trim();
			return raw === '' ? null : ( isNaN( Number( raw ) ) ? raw : Number( raw ) );
		}
		if ( k === 'list' ) {
			return String( raw ).split( ',' ).map( function ( s ) { return s.trim(); } ).filter( Boolean );
		}
		if ( k === 'json' ) {
			try {
				return JSON.parse( raw );
			} catch ( e ) {
				return raw;
			}
		}
		return raw;
	}

	function has( object, key ) {
		return !!object && typeof object === 'object' && Object.prototype.hasOwnProperty.call( object, key );
	}

	/* One key of the document as a form part: { row, read() → { include, value }, field }. A key is
	 * written when the page had it or the user changed it from its default; a nested object is a
	 * fieldset of its own keys, by the same rule, built from the schema (as at the top level, keys
	 * the schema does not know have no field and are not written back). */
	function part( key, sch, present, value, id ) {
		var k = kind( sch ), field, row, children = [];
		if ( k === 'object' ) {
			row = $( '<fieldset>' ).addClass( 'automod-config-group' ).attr( 'id', id )
				.append( $( '<legend>' ).text( key ) );
			if ( sch.description ) {
				row.append( $( '<div>' ).addClass( 'automod-config-help' ).text( sch.description ) );
			}
			Object.keys( sch.properties ).forEach( function ( sub ) {
				var child = sch.properties[ sub ], mine = present && has( value, sub );
				var start = mine ? value[ sub ] : has( sch[ 'default' ], sub ) ? sch[ 'default' ][ sub ] : child[ 'default' ];
				var made = part( sub, child, mine, start, id + '-' + sub );
				children.push( { key: sub, made: made } );
				row.append( made.row );
			} );
			return { row: row, read: function () {
				var out = {}, changed = false;
				children.forEach( function ( c ) {
					var got = c.made.read();
					if ( got.include ) {
						out[ c.key ] = got.value;
						changed = true;
					}
				} );
				return { include: present || changed, value: out };
			} };
		}
		if ( k === 'boolean' ) {
			field = $( '<input>' ).attr( 'type', 'checkbox' ).prop( 'checked', !!value );
		} else if ( k === 'enum' ) {
			field = $( '<select>' );
			sch[ 'enum' ].forEach( function ( v ) {
				field.append( $( '<option>' ).attr( 'value', v ).text( v ) );
			} );
			field.val( value );
		} else if ( k === 'json' ) {
			field = $( '<textarea>' ).attr( 'rows', 2 ).val( value === undefined ? '' : JSON.stringify( value ) );
		} else {
			field = $( '<input>' ).attr( 'type', 'text' ).val( value === null || value === undefined ? '' :
				( k === 'list' ? value.join( ', ' ) : String( value ) ) );
		}
		field.attr( { name: id.replace( /^automod-config-/, '' ), id: id } ).data( 'kind', k );
		var initial = JSON.stringify( value );
		row = $( '<div>' ).addClass( 'automod-config-row' ).append(
			$( '<label>' ).attr( 'for', id ).text( key ), ' ', field,
			$( '<div>' ).addClass( 'automod-config-help' ).text( sch.description || '' ) );
		return { row: row, field: field, read: function () {
			var now = readField( field );
			return { include: present || JSON.stringify( now ) !== initial, value: now };
		} };
	}

	function build( original, evidence, baseRev ) {
		var form = $( '<form>' ).addClass( 'automod-config-form' ), parts = {};
		var evidenceBox = $( '<div>' ).addClass( 'automod-config-evidence-box' );
		var problemsBox = $( '<ul>' ).addClass( 'automod-config-problems' );
		var status = $( '<div>' ).addClass( 'automod-config-status' );
		form.append( $( '<h3>' ).text( msg( 'config-heading' ) ) );
		Object.keys( props ).forEach( function ( key ) {
			var sch = props[ key ], mine = has( original, key );
			var made = part( key, sch, mine, mine ? original[ key ] : sch[ 'default' ], 'automod-config-' + key );
			parts[ key ] = made;
			if ( key === 'threshold' ) {
				made.row.append( evidenceBox );
			}
			form.append( made.row );
		} );

		function documentNow() {
			var out = {};
			Object.keys( parts ).forEach( function ( key ) {
				var got = parts[ key ].read();
				if ( got.include ) {
					out[ key ] = got.value;
				}
			} );
			return out;
		}

		function effectiveThreshold( doc ) {
			if ( typeof doc.threshold === 'number' ) {
				return doc.threshold;
			}
			var level = doc.caution_level || props.caution_level[ 'default' ];
			return evidence && evidence.caution_levels ? evidence.caution_levels[ level ] || null : null;
		}

		function refresh() {
			var doc = documentNow(), found = problems( doc, schema, '$', [] );
			problemsBox.empty();
			found.forEach( function ( p ) {
				problemsBox.append( $( '<li>' ).text( p ) );
			} );
			save.prop( 'disabled', found.length > 0 );
			renderEvidence( evidenceBox, evidence, effectiveThreshold( doc ) );
		}

		var save = $( '<button>' ).attr( 'type', 'submit' ).addClass( 'automod-config-save mw-ui-button mw-ui-progressive' )
			.text( msg( 'config-save' ) );
		form.append( problemsBox, save, status );
		form.on( 'input change', 'input, select, textarea', refresh );
		form.on( 'submit', function ( e ) {
			e.preventDefault();
			var doc = documentNow(), found = problems( doc, schema, '$', [] );
			if ( found.length ) {
				refresh();
				return;
			}
			save.prop( 'disabled', true );
			status.text( msg( 'saving' ) );
			api.postWithToken( 'csrf', {
				action: 'edit', title: S.configPage, text: JSON.stringify( doc, null, '\t' ) + '\n',
				summary: typeof doc.threshold === 'number' ? msg( 'config-summary-threshold', doc.threshold ) :
					msg( 'config-summary' ),
				baserevid: baseRev, nocreate: baseRev ? 1 : undefined
			} ).then( function ( data ) {
				status.text( msg( 'config-saved', data.edit.newrevid || data.edit.oldrevid ) )
					.attr( 'data-saved', String( data.edit.newrevid || data.edit.oldrevid ) );
				baseRev = data.edit.newrevid || baseRev;
				save.prop( 'disabled', false );
			}, function ( code, info ) {
				status.text( msg( 'not-saved', ( info && info.error && info.error.info ) || code ) );
				save.prop( 'disabled', false );
			} );
		} );
		$( '#mw-content-text' ).prepend( form );
		refresh();
		$( document.body ).attr( 'data-automod-config', 'ready' );
	}

	function pageJson( page ) {
		var text = page && page.revisions && page.revisions[ 0 ] ? page.revisions[ 0 ].slots.main.content : null;
		try {
			return text ? JSON.parse( text ) : null;
		} catch ( e ) {
			return null;
		}
	}

	mw.user.getRights().then( function ( rights ) {
		if ( rights.indexOf( 'editsitejson' ) === -1 || rights.indexOf( 'editinterface' ) === -1 ) {
			return; // cannot save this page anyway
		}
		return $.when( api.get( { action: 'query', prop: 'revisions', titles: [ S.configPage, S.thresholdsPage ],
			rvprop: 'ids|content', rvslots: 'main', formatversion: 2 } ), loadMessages() ).then( function ( answer ) {
			var data = answer[ 0 ];
			var config = null, evidence = null, baseRev = null;
			data.query.pages.forEach( function ( page ) {
				var t = mw.Title.newFromText( page.title ).getPrefixedDb();
				if ( t === configTitle.getPrefixedDb() ) {
					config = pageJson( page );
					baseRev = page.revisions ? page.revisions[ 0 ].revid : null;
				} else {
					evidence = pageJson( page );
				}
			} );
			build( config && typeof config === 'object' && !Array.isArray( config ) ? config : {}, evidence, baseRev );
		} );
	} );
}() );
